"""The registrar sets up a school year: classes opened with their class teachers, last year's
classes copied one grade up (set-based, after a plan; the last grade left out, existing classes
kept, class teachers kept when asked), a class removed only while nothing refers to it."""

import datetime

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.classes import (
    class_open,
    class_remove,
    class_teacher_set,
    classes_copy_plan,
    classes_copy_up,
    year_setup,
)
from xueji.schools.models import SchoolClass
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, academic_year, member

pytestmark = pytest.mark.django_db
JULY = datetime.date(2027, 7, 1)  # in the school year 2026-2027; 2027-2028 is the next


@pytest.fixture(autouse=True)
def in_july(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: JULY)


@pytest.fixture
def school():
    return SchoolFactory()  # a primary school, grades 1-6


@pytest.fixture
def registrar(school):
    return member(Role.REGISTRAR, school=school)


@pytest.fixture
def teachers(school):
    return [member(Role.CLASS_TEACHER, school=school) for _ in range(3)]


def last_year(school, teachers):
    """2026-2027: two classes of grades 1, 2 and 6; class 1 of each has a class teacher."""
    classes = {}
    for grade in (1, 2, 6):
        for number in (1, 2):
            classes[(grade, number)] = SchoolClassFactory(
                school=school,
                academic_year=academic_year(2026),
                grade=grade,
                number=number,
                name=f"{number}班",
                class_teacher=teachers[0] if number == 1 and grade == 1 else None,
            )
    return classes


def test_a_class_is_opened_with_its_class_teacher(school, registrar, teachers):
    opened = class_open(
        actor=registrar, start_year=2027, grade=1, number=3, class_teacher_id=teachers[1].pk
    )
    assert opened.academic_year.start_year == 2027 and opened.class_teacher == teachers[1]
    assert opened.name == "3班"  # the registry's language: Chinese
    entry = AuditEntry.objects.get(action="class.create")
    assert entry.after["grade"] == 1 and entry.after["class_teacher"] == teachers[1].pk
    # The year's terms are there for the year's windows and scores.
    assert opened.academic_year.terms.count() == 2


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"grade": 7}, "grade", "grade_not_taught"),
        ({"number": 0}, "number", "number_out_of_range"),
        ({"start_year": 2030}, "year", "year_out_of_reach"),
        ({"class_teacher_id": "x"}, "class_teacher", "not_a_class_teacher"),
    ],
)
def test_a_wrong_class_is_refused_next_to_its_field(school, registrar, values, field, code):
    arguments = {"start_year": 2027, "grade": 1, "number": 1, **values}
    with pytest.raises(FieldErrors) as refused:
        class_open(actor=registrar, **arguments)
    assert refused.value.errors[field][0].code == code
    assert not SchoolClass.objects.exists()


def test_the_class_teacher_is_one_of_the_school_and_the_class_one_of_the_school(
    school, registrar, teachers
):
    other_school = SchoolFactory()
    stranger = member(Role.CLASS_TEACHER, school=other_school)
    subject_teacher = member(Role.SUBJECT_TEACHER, school=school)
    school_class = class_open(actor=registrar, start_year=2027, grade=2, number=1)
    for wrong in (stranger, subject_teacher):
        with pytest.raises(FieldErrors):
            class_teacher_set(actor=registrar, class_id=school_class.pk, class_teacher_id=wrong.pk)
    class_teacher_set(actor=registrar, class_id=school_class.pk, class_teacher_id=teachers[2].pk)
    school_class.refresh_from_db()
    assert school_class.class_teacher == teachers[2]
    entry = AuditEntry.objects.get(action="class.class_teacher")
    assert (entry.before["class_teacher"], entry.after["class_teacher"]) == (None, teachers[2].pk)
    class_teacher_set(actor=registrar, class_id=school_class.pk, class_teacher_id=None)
    school_class.refresh_from_db()
    assert school_class.class_teacher is None
    # Another school's class is not found.
    theirs = SchoolClassFactory(school=other_school, academic_year=academic_year(2027))
    with pytest.raises(NotFound):
        class_teacher_set(actor=registrar, class_id=theirs.pk, class_teacher_id=None)


def test_last_year_s_classes_are_copied_one_grade_up(school, registrar, teachers):
    source = last_year(school, teachers)
    # Grade 3 class 1 of the new year exists already (opened by hand).
    class_open(actor=registrar, start_year=2027, grade=3, number=1)
    plan = classes_copy_plan(actor=registrar, to_year=2027, keep_class_teachers=True)
    assert [(p.grade, p.number, p.name) for p in plan.make] == [
        (2, 1, "1班"),
        (2, 2, "2班"),
        (3, 2, "2班"),
    ]
    assert plan.make[0].class_teacher == teachers[0]
    assert {(c.grade, c.number) for c in plan.leaving} == {(6, 1), (6, 2)}
    assert [(c.grade, c.number) for c in plan.existing] == [(2, 1)]
    made = classes_copy_up(actor=registrar, to_year=2027, keep_class_teachers=True, confirmed=3)
    assert len(made) == 3
    new_year = SchoolClass.objects.filter(school=school, academic_year__start_year=2027)
    assert set(new_year.values_list("grade", "number", "class_teacher")) == {
        (2, 1, teachers[0].pk),
        (2, 2, None),
        (3, 1, None),
        (3, 2, None),
    }
    entry = AuditEntry.objects.get(action="class.copy_up")
    assert entry.detail["made"] == 3 and entry.detail["leaving"] == 2
    assert entry.detail["class_teachers_kept"] == 1
    # Done once: a second copy finds nothing to make.
    with pytest.raises(Conflict) as refused:
        classes_copy_up(actor=registrar, to_year=2027, keep_class_teachers=True, confirmed=0)
    assert refused.value.code == "nothing_to_copy"
    assert source[(1, 1)].academic_year.start_year == 2026  # last year's stay as they were


def test_class_teachers_are_kept_only_when_asked_and_still_class_teachers(
    school, registrar, teachers
):
    last_year(school, teachers)
    plan = classes_copy_plan(actor=registrar, to_year=2027, keep_class_teachers=False)
    assert all(p.class_teacher is None for p in plan.make)
    teachers[0].membership.delete()  # no longer the school's class teacher
    plan = classes_copy_plan(actor=registrar, to_year=2027, keep_class_teachers=True)
    assert all(p.class_teacher is None for p in plan.make)
    assert [(c.grade, c.number) for c in plan.teachers_gone] == [(1, 1)]


def test_a_copy_is_refused_when_the_plan_changed_since_it_was_shown(school, registrar, teachers):
    last_year(school, teachers)
    shown = len(classes_copy_plan(actor=registrar, to_year=2027, keep_class_teachers=False).make)
    class_open(actor=registrar, start_year=2027, grade=2, number=2)  # meanwhile
    with pytest.raises(Conflict) as refused:
        classes_copy_up(actor=registrar, to_year=2027, keep_class_teachers=False, confirmed=shown)
    assert refused.value.code == "plan_changed"
    assert SchoolClass.objects.filter(academic_year__start_year=2027).count() == 1


def test_a_class_is_removed_only_while_nothing_refers_to_it(school, registrar):
    from xueji.students.services import student_register
    from xueji.testing.factories import student_data

    empty = class_open(actor=registrar, start_year=2026, grade=1, number=5)
    class_remove(actor=registrar, class_id=empty.pk)
    assert not SchoolClass.objects.filter(pk=empty.pk).exists()
    assert AuditEntry.objects.filter(action="class.remove").count() == 1
    used = class_open(actor=registrar, start_year=2026, grade=1, number=1)
    student_register(actor=registrar, school_class_id=used.pk, data=student_data())
    with pytest.raises(Conflict) as refused:
        class_remove(actor=registrar, class_id=used.pk)
    assert refused.value.code == "class_in_use"
    assert SchoolClass.objects.filter(pk=used.pk).exists()


def test_only_the_school_s_registrar_sets_up_its_classes(school, teachers):
    from xueji.geo.models import Division

    futian = Division.objects.get(code="440304")
    for refused in (
        member(Role.PRINCIPAL, school=school),
        teachers[0],
        member(Role.BUREAU_APPROVER, division=futian),
        member(Role.ADMIN),
    ):
        with pytest.raises(PermissionRefused):
            class_open(actor=refused, start_year=2027, grade=1, number=1)
        with pytest.raises(PermissionRefused):
            classes_copy_up(actor=refused, to_year=2027, keep_class_teachers=False, confirmed=1)
        assert year_setup(refused) is None
    assert not SchoolClass.objects.exists()


def test_the_page_s_reading_of_a_year(school, registrar, teachers):
    last_year(school, teachers)
    setup = year_setup(registrar, 2027)
    assert setup.years == [2025, 2026, 2027] and setup.year == 2027
    assert setup.classes == [] and setup.copyable == 4
    assert set(setup.class_teachers) == set(teachers)
    # A year out of reach shows this one.
    assert year_setup(registrar, 2031).year == 2026
