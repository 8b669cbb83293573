"""Class rosters and the search page: masked numbers, pinyin, initials, numbers, htmx."""

import pytest

from xueji.access.models import Role
from xueji.core.idnumbers import mask_student_number
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data

from .conftest import client_as

pytestmark = pytest.mark.django_db


def test_the_roster_lists_the_class_with_masked_numbers(registry):
    page = client_as(registry.registrar_a).get(f"/classes/{registry.class_a.pk}/").content.decode()
    student = registry.student_a
    assert student.name in page
    assert f"/students/{student.pk}/" in page
    assert mask_student_number(student.reveal_student_number()) in page
    assert student.reveal_student_number() not in page
    assert "Register a student into this class" in page


def test_an_empty_class_says_so(registry):
    empty = SchoolClassFactory(school=registry.school_a, grade=1, number=2, name="2班")
    principal = member(Role.PRINCIPAL, school=registry.school_a)
    page = client_as(principal).get(f"/classes/{empty.pk}/").content.decode()
    assert "No students in this class yet" in page
    assert "Register a student into this class" not in page  # a principal does not register


@pytest.mark.parametrize("query", ["张春铭", "张", "zhangchunming", "zhang", "zcm", "ZCM"])
def test_search_by_name_pinyin_and_initials(registry, query):
    page = client_as(registry.registrar_a).get("/students/search/", {"q": query}).content.decode()
    assert f"/students/{registry.student_a.pk}/" in page
    assert mask_student_number(registry.student_a.reveal_student_number()) in page


def test_search_by_full_student_number_and_id_number(registry):
    client = client_as(registry.registrar_a)
    student = registry.student_a
    for query in (student.reveal_student_number(), student.reveal_id_number()):
        page = client.get("/students/search/", {"q": query}).content.decode()
        assert f"/students/{student.pk}/" in page
        assert "1 student found" in page


def test_search_within_a_class(registry):
    other = SchoolClassFactory(school=registry.school_a, grade=1, number=2, name="2班")
    twin = student_register(
        actor=registry.registrar_a, school_class_id=other.pk, data=student_data(name="张春雨")
    ).student
    client = client_as(registry.registrar_a)
    page = client.get("/students/search/", {"q": "zc", "class": other.pk}).content.decode()
    assert f"/students/{twin.pk}/" in page
    assert f"/students/{registry.student_a.pk}/" not in page
    page = client.get("/students/search/", {"q": "zc"}).content.decode()
    assert f"/students/{twin.pk}/" in page
    assert f"/students/{registry.student_a.pk}/" in page


def test_search_without_criteria_explains_what_to_type(registry):
    page = client_as(registry.registrar_a).get("/students/search/").content.decode()
    assert "Type a name to start" in page
    assert "/students/" + str(registry.student_a.pk) not in page


def test_live_search_returns_only_the_results(registry):
    client = client_as(registry.registrar_a)
    response = client.get("/students/search/", {"q": "zcm"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert f"/students/{registry.student_a.pk}/" in page
    assert "<html" not in page
    full = client.get("/students/search", {"q": "zcm"}, follow=True).content.decode()
    assert "<html" in full and f"/students/{registry.student_a.pk}/" in full


def test_search_results_say_each_students_grade_and_class(registry):
    # Two 张春… of one school in different classes: the results tell them apart, as the
    # export of the same search does.
    other = SchoolClassFactory(school=registry.school_a, grade=2, number=3, name="3班")
    student_register(
        actor=registry.registrar_a, school_class_id=other.pk, data=student_data(name="张春雨")
    )
    page = client_as(registry.registrar_a).get("/students/search/", {"q": "zc"}).content.decode()
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "<td>Grade 1</td><td>1班</td>" in rows and "<td>Grade 2</td><td>3班</td>" in rows
    roster = client_as(registry.registrar_a).get(f"/classes/{other.pk}/").content.decode()
    assert "<td>3班</td>" not in roster  # the roster is one class: no class column
