"""The registration form reports every problem after one submit (issue 20, item 1): listed at
the top, each linked to its field and said again next to it; and the ID number is checked as
soon as its field is left, filling in the birth date and the sex it carries."""

from __future__ import annotations

import datetime
import html
import re
from html.parser import HTMLParser

import pytest

from xueji.students.models import Student
from xueji.testing.factories import resident_id

from .conftest import client_as
from .test_register import URL, form_data

pytestmark = pytest.mark.django_db


class _FormDefaults(HTMLParser):
    """What a browser posts for a form nobody touched: each field's initial value (the selected
    or first option, a checked box or radio), the way the registrar would send an empty form."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.values: dict[str, str] = {}
        self.select: str | None = None
        self.first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = attr.get("id") == self.form_id
        if not self.inside:
            return
        name = attr.get("name")
        if tag == "input" and name and "disabled" not in attr:
            kind = attr.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self.values[name] = attr.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.values[name] = attr.get("value", "")
        elif tag == "textarea" and name:
            self.values[name] = ""
        elif tag == "select" and name and "disabled" not in attr:
            self.select, self.first_option = name, None
        elif tag == "option" and self.select is not None:
            value = attr.get("value", "")
            if self.first_option is None:
                self.first_option = value
                self.values[self.select] = value
            if "selected" in attr:
                self.values[self.select] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.inside = False


def untouched(page: str) -> dict[str, str]:
    parser = _FormDefaults("registration-form")
    parser.feed(page)
    return parser.values


def summary(page: str) -> list[tuple[str, str]]:
    """The list at the top: (the id linked to, the item's text)."""
    block = page[page.index('id="error-summary"') :]
    block = block[: block.index("</ul>")]
    return [
        (anchor, html.unescape(re.sub(r"<[^>]+>", "", text)).strip())
        for anchor, text in re.findall(r'<li>(?:<a href="#([^"]+)">)?(.*?)</li>', block, re.S)
    ]


def test_an_untouched_form_shows_every_problem_at_once(registry):
    client = client_as(registry.registrar_a)
    registered = Student.objects.count()
    sent = untouched(client.get(URL).content.decode())
    assert sent["family-0-relation"] == "51" and "sex" not in sent  # as a browser sends it

    response = client.post(URL, sent)

    assert response.status_code == 200
    form, formset = response.context["form"], response.context["formset"]
    # The form's own fields and the registration's rules, in one answer (before, 姓名, 出生地,
    # the ID number, the members' names and the guardian waited for a second and third submit).
    assert set(form.errors) == {
        "school_class",
        "name",
        "sex",
        "birth_date",
        "ethnicity",
        "id_number",
        "birthplace_code",
        "hukou_nature",
    }
    assert [set(member.errors) for member in formset.forms] == [{"name"}, {"name"}]
    assert [m for e in response.context["family_errors"] for m in e] == [
        "Mark at least one present family member as the guardian."
    ]
    page = response.content.decode()
    listed = summary(page)
    assert len(listed) == 11
    assert ("field-name", "Name: The name is required.") in listed
    assert ("field-birthplace_code", "Birthplace: The birthplace is required.") in listed
    assert (
        "field-family-1-name",
        "Family member 2 · Name: Give the member's name, or the reason the member is missing.",
    ) in listed
    assert (
        "family",
        "Family members and guardians: Mark at least one present family member as the guardian.",
    ) in listed
    # Each link leads to its field's box, where the reason is said again.
    for anchor, _text in listed:
        assert f'id="{anchor}"' in page, anchor
    assert 'id="field-name"><label for="id_name">' in page.replace("\n  ", "")
    assert 'id="id_name_error"' in page
    assert Student.objects.count() == registered


def test_problems_of_every_kind_come_in_one_answer(registry):
    """A class not chosen (the form), a mistyped ID number and a member without a name (the
    registration's rules), nobody marked guardian (the family's rule): all four at once."""
    good = resident_id(birth_date=datetime.date(2020, 3, 5))
    mistyped = good[:-1] + ("1" if good[-1] == "0" else "0")
    data = form_data(
        registry.class_a,
        id_number=mistyped,
        **{"family-1-name": "", "family-0-is_guardian": None},
    )
    data["school_class"] = ""
    response = client_as(registry.registrar_a).post(URL, data)

    assert response.status_code == 200
    form, formset = response.context["form"], response.context["formset"]
    assert set(form.errors) == {"school_class", "id_number"}
    assert "check character" in form.errors["id_number"][0]
    assert list(formset.forms[1].errors) == ["name"]
    assert [m for e in response.context["family_errors"] for m in e] == [
        "Mark at least one present family member as the guardian."
    ]
    assert [anchor for anchor, _text in summary(response.content.decode())] == [
        "field-school_class",
        "field-id_number",
        "field-family-1-name",
        "family",
    ]


def test_an_unusual_age_is_asked_beside_the_other_problems(registry):
    older = datetime.date(2016, 3, 5)
    data = form_data(
        registry.class_a, birth_date=older, name="", id_number=resident_id(birth_date=older)
    )
    response = client_as(registry.registrar_a).post(URL, data)
    assert "is 10 on 1 September" in response.context["age_warning"]
    anchors = [anchor for anchor, _text in summary(response.content.decode())]
    assert anchors == ["field-age_confirmation", "field-name"]


ID_CHECK = "/students/register/id-number/"


def test_the_id_number_field_asks_to_be_checked_when_it_is_left(registry):
    page = client_as(registry.registrar_a).get(URL).content.decode()
    field = re.search(r'<input[^>]*name="id_number"[^>]*>', page)
    assert field is not None
    assert f'hx-post="{ID_CHECK}"' in field.group(0)
    assert 'hx-trigger="change"' in field.group(0)
    assert 'hx-target="#field-id_number"' in field.group(0)


def test_a_good_number_fills_in_the_birth_date_and_the_sex(registry):
    number = resident_id(birth_date=datetime.date(2019, 11, 2), male=False)
    response = client_as(registry.registrar_a).post(
        ID_CHECK, {"id_doc_type": "1", "id_number": number, "birth_date": ""}
    )
    assert response.status_code == 200
    answer = response.content.decode()
    assert answer.startswith('<div class="field" id="field-id_number">')
    assert "errorlist" not in answer
    assert "The number reads: born 2019-11-02, Female." in answer
    birth = re.search(r'<input[^>]*name="birth_date"[^>]*>', answer)
    assert birth is not None and 'value="2019-11-02"' in birth.group(0)
    assert 'hx-swap-oob="true"' in birth.group(0)
    female = re.search(r'<input[^>]*value="2"[^>]*id="id_sex_1"[^>]*>', answer)
    assert female is not None and "checked" in female.group(0)


def test_a_number_that_does_not_agree_is_refused_with_the_reason_and_fills_nothing(registry):
    number = resident_id(birth_date=datetime.date(2019, 11, 2), male=False)
    client = client_as(registry.registrar_a)
    disagreeing = client.post(
        ID_CHECK,
        {"id_doc_type": "1", "id_number": number, "birth_date": "2019-11-03", "sex": "2"},
    ).content.decode()
    assert "is not the birth date entered (2019-11-03)" in disagreeing
    assert 'name="birth_date"' not in disagreeing
    mistyped = number[:-1] + ("1" if number[-1] == "0" else "0")
    answer = client.post(ID_CHECK, {"id_doc_type": "1", "id_number": mistyped}).content.decode()
    assert 'class="field has-error" id="field-id_number"' in answer
    assert "The check character does not match" in answer
    assert 'name="sex"' not in answer


def test_only_the_registrar_checks_numbers_there(registry, class_teacher):
    number = resident_id()
    assert client_as(class_teacher).post(ID_CHECK, {"id_number": number}).status_code == 403
    assert client_as(registry.futian).post(ID_CHECK, {"id_number": number}).status_code == 403
    assert client_as(registry.registrar_a).get(ID_CHECK).status_code == 405


def test_the_page_refuses_a_long_name_as_too_long_with_the_limit(registry):
    """The page says what the API says: a pasted name of 65 characters is too long, with the
    limit (the field does not cut it short unseen)."""
    response = client_as(registry.registrar_a).post(
        URL, form_data(registry.class_a, name="阿" * 65)
    )
    assert response.status_code == 200
    assert [str(e) for e in response.context["form"].errors["name"]] == [
        "A name has at most 64 characters; this one has 65."
    ]
    field = re.search(r'<input[^>]*name="name"[^>]*>', response.content.decode())
    assert field is not None and "maxlength" not in field.group(0)
