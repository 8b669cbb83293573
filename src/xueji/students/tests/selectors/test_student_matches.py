"""student_matches: every match of a search as a queryset (for exports), in the caller's scope;
student_search and student_search_page are its first rows."""

import pytest

from xueji.access.models import Role
from xueji.students.selectors import student_matches, student_search, student_search_page
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    """Four 张 (zc…) in class 1-1, a 李 in class 1-2; a 张 at another school."""
    one = SchoolClassFactory(grade=1, number=1)
    two = SchoolClassFactory(grade=1, number=2, school=one.school)
    registrar = member(Role.REGISTRAR, school=one.school)
    for school_class, name in [(one, n) for n in ("张春铭", "张春雨", "张春华", "张春燕")] + [
        (two, "李明")
    ]:
        student_register(
            actor=registrar, school_class_id=school_class.pk, data=student_data(name=name)
        )
    elsewhere = SchoolClassFactory(grade=1, school=SchoolFactory(county=one.school.county))
    student_register(
        actor=member(Role.REGISTRAR, school=elsewhere.school),
        school_class_id=elsewhere.pk,
        data=student_data(name="张春晓"),
    )
    return registrar, one, two


def test_all_matches_in_scope_unlimited_in_pinyin_order(school):
    registrar, _one, two = school
    matches = student_matches(registrar, query="zc")
    assert [s.name for s in matches] == ["张春华", "张春铭", "张春燕", "张春雨"]
    assert matches.count() == 4  # 张春晓 is at another school
    assert [s.name for s in student_matches(registrar, class_id=two.pk)] == ["李明"]
    assert student_matches(registrar, grade=1).count() == 5
    assert student_matches(registrar, grade=2).count() == 0


def test_a_full_number_is_that_student_alone(school):
    registrar, _one, _two = school
    wanted = student_matches(registrar, query="张春雨").get()
    for number in (wanted.reveal_student_number(), wanted.reveal_id_number()):
        assert list(student_matches(registrar, query=number)) == [wanted]
        assert student_search(registrar, query=number) == [wanted]


def test_the_search_is_the_first_rows_and_the_page_counts_them_all(school):
    registrar, _one, _two = school
    assert student_search(registrar, query="zc", limit=2) == list(
        student_matches(registrar, query="zc")[:2]
    )
    page = student_search_page(registrar, query="zc", limit=2)
    assert [s.name for s in page.students] == ["张春华", "张春铭"] and page.total == 4
    page = student_search_page(registrar, query="li", limit=2)
    assert [s.name for s in page.students] == ["李明"] and page.total == 1
