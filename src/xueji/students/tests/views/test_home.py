"""Home: a school's grades and classes with counts, or a bureau's schools with counts."""

import pytest

from xueji.access.models import Role
from xueji.core import codes
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, UserFactory, member, student_data

from .conftest import client_as

pytestmark = pytest.mark.django_db


def test_school_home_shows_classes_with_boys_girls_total_and_teacher(registry):
    teacher = UserFactory(username="wang", first_name="芳", last_name="王")
    class_2 = SchoolClassFactory(
        school=registry.school_a, grade=1, number=2, name="2班", class_teacher=teacher
    )
    student_register(
        actor=registry.registrar_a,
        school_class_id=class_2.pk,
        data=student_data(name="李小花", sex=codes.Sex.FEMALE),
    )
    response = client_as(registry.registrar_a).get("/")
    overview = response.context["overview"]
    rows = {row.school_class.pk: row for row in overview.grades[0].classes}
    assert (rows[registry.class_a.pk].boys, rows[registry.class_a.pk].girls) == (1, 0)
    assert (rows[class_2.pk].boys, rows[class_2.pk].girls, rows[class_2.pk].total) == (0, 1, 1)
    assert overview.total == 2
    page = response.content.decode()
    assert "王芳" in page  # family name first
    assert "Not assigned" in page  # class 1 has no class teacher
    assert f"/classes/{class_2.pk}/" in page
    assert "Register a new student" in page


def test_a_teacher_is_not_offered_registration(registry):
    page = client_as(registry.teacher_a).get("/", follow=True).content.decode()
    assert registry.school_a.name in page
    assert "/students/register/" not in page


def test_school_without_classes_explains_what_to_do(registry):
    from xueji.testing.factories import SchoolFactory

    empty = SchoolFactory(name="新建小学")
    page = client_as(member(Role.PRINCIPAL, school=empty)).get("/").content.decode()
    assert "No classes yet for this school year" in page


def test_bureau_home_counts_students_per_school(registry):
    student_register(
        actor=registry.registrar_b,
        school_class_id=registry.class_b.pk,
        data=student_data(name="李小花", sex=codes.Sex.FEMALE),
    )
    response = client_as(registry.futian).get("/")
    schools = {s.pk: (s.boys, s.girls) for s in response.context["page"].object_list}
    assert schools == {registry.school_a.pk: (1, 0), registry.school_b.pk: (1, 1)}
    page = response.content.decode()
    assert "福田区" in page
    assert "2 schools in your area" in page


def test_bureau_home_filters_by_county_and_name(registry):
    client = client_as(registry.shenzhen)
    by_county = client.get("/", {"county": "440305"}).context["page"].object_list
    assert [s.pk for s in by_county] == [registry.school_c.pk]
    by_name = client.get("/", {"q": "第二"}).context["page"].object_list
    assert [s.pk for s in by_name] == [registry.school_b.pk]
    page = client.get("/", {"q": "没有这所学校"}).content.decode()
    assert "No school matches" in page
