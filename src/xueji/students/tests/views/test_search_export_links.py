"""The search page's export buttons follow the search: in the results the htmx form replaces,
small forms posting the criteria (so that a number searched for stays out of URLs) with the
number of all matches (not only the shown ones), leading to a file of exactly those records;
without criteria they are links to the whole area, and only for a role that may export."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest

from xueji.schools.models import SchoolClass
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.students.views import lists as views
from xueji.testing.factories import SchoolClassFactory, student_data

from .conftest import Registry, client_as

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _links(html: str) -> set[str]:
    """The export links (the list of one's own background exports left out)."""
    found = re.findall(r'href="(/exports/[^"]*)"', html)
    return {href.replace("&amp;", "&") for href in found if href != "/exports/"}


def _forms(html: str) -> dict[str, dict[str, str]]:
    """The export forms: {action: {hidden input: value}}, the CSRF token left out (each has one)."""
    forms = {}
    for action, body in re.findall(
        r'<form method="post" action="(/exports/[^"]*)">(.*?)</form>', html, re.DOTALL
    ):
        inputs = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body))
        assert inputs.pop("csrfmiddlewaretoken", None), f"no CSRF token in the form to {action}"
        forms[unescape(action)] = {name: unescape(value) for name, value in inputs.items()}
    return forms


def _register(registry: Registry, school_class: SchoolClass, name: str) -> Student:
    return student_register(
        actor=registry.registrar_a, school_class_id=school_class.pk, data=student_data(name=name)
    ).student


@pytest.fixture
def class_2(registry: Registry) -> SchoolClass:
    """Class 1-2 of school A with three 张 (zc…) and a 李; class 1-1 holds 张春铭 already."""
    school_class = SchoolClassFactory(school=registry.school_a, grade=1, number=2, name="2班")
    for name in ("张春雨", "张春华", "张春燕", "李明"):
        _register(registry, school_class, name)
    return school_class


def test_the_buttons_post_the_criteria_and_say_the_count_of_all_matches(
    registry, class_2, monkeypatch
):
    # Three matches, two a page (raising=False: the test fails on the page, not on the patch).
    monkeypatch.setattr(views, "SEARCH_LIMIT", 2, raising=False)
    client = client_as(registry.registrar_a)
    response = client.post("/students/search/", {"q": "zc", "class": class_2.pk}, headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert len(re.findall(r'href="/students/[0-9a-f-]+/"', html)) == 2
    criteria = {"q": "zc", "class": str(class_2.pk)}
    assert _forms(html) == {"/exports/students.xlsx": criteria, "/exports/students.csv": criteria}
    assert _links(html) == set()
    assert html.count('class="button secondary export-link"') == 2
    assert "Export these 3 results (Excel)" in html and "Export these 3 results (CSV)" in html
    assert "3 students found" in html and "Page 1 of 2" in html
    assert "Export all records in your area" not in html

    download = client.post("/exports/students.csv", criteria)
    assert download.status_code == 200
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    names = sorted(line[1] for line in list(csv.reader(io.StringIO(text)))[1:])
    assert names == ["张春华", "张春燕", "张春雨"]


def test_the_full_page_has_the_same_buttons_in_the_results(registry, class_2):
    # A GET, as a roster's link or an old bookmark sends it.
    page = client_as(registry.registrar_a).get("/students/search/", {"grade": 1}).content.decode()
    assert _forms(page) == {
        "/exports/students.xlsx": {"grade": "1"},
        "/exports/students.csv": {"grade": "1"},
    }
    assert "Export these 5 results (Excel)" in page


def test_without_criteria_the_results_offer_the_whole_area(registry):
    html = client_as(registry.registrar_a).get("/students/search/", headers=HTMX).content.decode()
    assert _links(html) == {"/exports/students.xlsx", "/exports/students.csv"}
    assert "Export all records in your area (Excel)" in html


def test_a_search_without_matches_offers_no_export(registry):
    page = client_as(registry.registrar_a).get("/students/search/", {"q": "zzz"}).content.decode()
    assert "No student found" in page
    assert _links(page) == set() and _forms(page) == {}


def test_only_a_role_that_may_export_sees_the_links(registry, class_teacher):
    wanted = {"q": "zcm"}
    for user, offered in ((registry.registrar_a, True), (class_teacher, False)):
        html = client_as(user).get("/students/search/", wanted, headers=HTMX).content.decode()
        assert f"/students/{registry.student_a.pk}/" in html
        assert bool(_forms(html)) is offered
        assert ("Export the 1 result (Excel)" in html) is offered


def test_a_class_of_another_grade_is_said_not_searched_as_nobody(registry, class_2):
    # The grade changed to 二年级 while 1班 of 一年级 stayed chosen: "no student found" would
    # read as "二年级 1班 has nobody"; the results say which class belongs to which grade, and
    # offer no export (of the whole area, or of nothing).
    client = client_as(registry.registrar_a)
    wanted = {"grade": 2, "class": class_2.pk}
    html = client.get("/students/search/", wanted, headers=HTMX).content.decode()
    assert "2班 is a class of Grade 1, not of Grade 2" in html
    assert "No student found" not in html and "Type a name to start" not in html
    assert _links(html) == set() and _forms(html) == {}
    assert client.get("/exports/students.csv", wanted).status_code == 400
    page = client.get("/students/search/", {"grade": 1}).content.decode()
    assert 'data-clears="#id_class"' in page  # a new grade empties the class first


def test_criteria_the_form_refuses_offer_no_export_of_the_whole_area(registry, class_2):
    html = (
        client_as(registry.registrar_a)
        .get("/students/search/", {"class": 999999}, headers=HTMX)
        .content.decode()
    )
    assert "Nothing was searched: correct the criteria." in html
    assert "Export all records in your area" not in html
    assert _links(html) == set() and _forms(html) == {}
