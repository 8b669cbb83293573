"""转为正式学籍号 on a page (issue 20, item 5): the registrar of a J-numbered child gives the
formal G number from the record page, sees what changes and confirms; the corrections page,
which refuses a resident ID as a correction, leads there."""

from __future__ import annotations

import datetime

import pytest

from xueji.access.models import Role
from xueji.core import codes
from xueji.core.idnumbers import mask_student_number
from xueji.students.models import NumberKind, RecordEvent, Student
from xueji.students.selectors import student_by_number
from xueji.students.services import student_register
from xueji.testing.factories import member, resident_id, student_data

from .conftest import client_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def j_child(registry):
    """A boy of school A without a document, born 2020-03-05: a J number."""
    data = student_data(name="吴小宝", id_doc_type=codes.IdDocType.NONE, id_number="")
    student = student_register(
        actor=registry.registrar_a, school_class_id=registry.class_a.pk, data=data
    ).student
    assert student.number_kind == NumberKind.J
    return student


def _url(student: Student) -> str:
    return f"/students/{student.pk}/formal-number/"


def test_the_record_of_a_j_numbered_child_offers_the_page_to_its_registrar_only(registry, j_child):
    link = f'href="{_url(j_child)}"'
    assert link in client_as(registry.registrar_a).get(f"/students/{j_child.pk}/").content.decode()
    principal = member(Role.PRINCIPAL, school=registry.school_a)
    assert link not in client_as(principal).get(f"/students/{j_child.pk}/").content.decode()
    g_child = registry.student_a
    page = client_as(registry.registrar_a).get(f"/students/{g_child.pk}/").content.decode()
    assert "/formal-number/" not in page


def test_the_number_is_checked_shown_and_only_then_given(registry, j_child):
    client = client_as(registry.registrar_a)
    former = j_child.reveal_student_number()
    number = resident_id(birth_date=datetime.date(2020, 3, 5))

    form = client.get(_url(j_child))
    assert form.status_code == 200
    assert 'name="id_number"' in form.content.decode()

    shown = client.post(_url(j_child), {"id_number": number.lower()})
    page = shown.content.decode()
    assert shown.status_code == 200 and shown.context["confirming"]
    assert mask_student_number("G" + number) in page
    assert f'<input type="hidden" name="id_number" value="{number}">' in page
    assert "This cannot be undone" in page
    j_child.refresh_from_db()
    assert j_child.number_kind == NumberKind.J  # nothing changes before the confirmation

    done = client.post(_url(j_child), {"id_number": number, "confirmed": "True"})
    assert done.status_code == 302 and done["Location"] == f"/students/{j_child.pk}/"
    j_child.refresh_from_db()
    assert j_child.number_kind == NumberKind.G
    assert j_child.reveal_student_number() == "G" + number
    assert student_by_number(registry.registrar_a, former) == j_child
    assert RecordEvent.objects.filter(student=j_child, kind="number_changed").count() == 1
    record = client.get(done["Location"]).content.decode()
    assert "now has the formal student number" in record
    assert "/formal-number/" not in record


def test_a_number_that_disagrees_with_the_record_is_refused_next_to_the_field(registry, j_child):
    girl = resident_id(birth_date=datetime.date(2020, 3, 5), male=False)
    response = client_as(registry.registrar_a).post(_url(j_child), {"id_number": girl})
    assert response.status_code == 200 and not response.context["confirming"]
    page = response.content.decode()
    assert 'id="field-id_number"' in page and 'id="id_id_number_error"' in page
    assert "The ID number belongs to a Female" in page
    # A confirmation sent with such a number is refused alike.
    forced = client_as(registry.registrar_a).post(
        _url(j_child), {"id_number": girl, "confirmed": "True"}
    )
    assert "The ID number belongs to a Female" in forced.content.decode()
    j_child.refresh_from_db()
    assert j_child.number_kind == NumberKind.J


def test_a_number_another_record_holds_is_refused_at_the_confirmation(registry, j_child):
    taken = registry.student_a.reveal_id_number()
    client = client_as(registry.registrar_a)
    response = client.post(_url(j_child), {"id_number": taken, "confirmed": "True"})
    assert response.status_code == 409
    assert registry.school_a.name in response.context["form"].errors["id_number"][0]
    j_child.refresh_from_db()
    assert j_child.number_kind == NumberKind.J


def test_who_may_not_give_the_number_is_refused(registry, j_child):
    principal = member(Role.PRINCIPAL, school=registry.school_a)
    assert client_as(principal).get(_url(j_child)).status_code == 403
    assert client_as(registry.futian).get(_url(j_child)).status_code == 403
    assert client_as(registry.registrar_b).get(_url(j_child)).status_code == 404
    number = resident_id()
    assert (
        client_as(registry.registrar_b)
        .post(_url(j_child), {"id_number": number, "confirmed": "True"})
        .status_code
        == 404
    )
    j_child.refresh_from_db()
    assert j_child.number_kind == NumberKind.J


def test_a_child_with_a_formal_number_is_told_so(registry):
    response = client_as(registry.registrar_a).get(_url(registry.student_a))
    assert response.status_code == 200
    assert 'id="already-formal"' in response.content.decode()
    assert 'name="id_number"' not in response.content.decode()


def test_the_corrections_page_leads_to_the_conversion(registry, j_child):
    """The correction form refuses a resident ID for a J-numbered child (use_g_conversion):
    it says so before anything is typed, with the link to the page that gives the number, and
    again on a refused request."""
    client = client_as(registry.registrar_a)
    url = f"/corrections/new/{j_child.pk}/"
    hint = client.get(url).content.decode()
    assert 'id="formal-number-hint"' in hint and f'href="{_url(j_child)}"' in hint
    refused = client.post(url, {"id_doc_type": "1", "id_number": resident_id()})
    assert refused.status_code == 400
    assert f'href="{_url(j_child)}"' in refused.content.decode()
    g_page = client.get(f"/corrections/new/{registry.student_a.pk}/").content.decode()
    assert "/formal-number/" not in g_page
