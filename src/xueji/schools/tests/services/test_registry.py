"""The registry of schools (issue 19): registration with every attribute, edits, closing, and
merging a teaching point (教学点) into its central school (中心校) as a whole (整体并入)."""

from __future__ import annotations

import datetime

import pytest

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.schools.models import SchoolClass, SchoolKind
from xueji.schools.registry import (
    school_close,
    school_create,
    school_merge,
    school_merge_plan,
    school_update,
)
from xueji.students.models import EventKind, Placement, PlacementReason, RecordEvent, Student
from xueji.students.record import SchoolClosed
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

pytestmark = pytest.mark.django_db

FUTIAN = "440304"


def approver(code: str = FUTIAN, level: str | None = None):
    return member(Role.BUREAU_APPROVER, division=Division.objects.get(code=code), level=level)


def stated(**overrides):
    values = {
        "name": "福田区第九小学",
        "kind": SchoolKind.PRIMARY,
        "county_code": FUTIAN,
        "address": "深圳市福田区福中路1号",
        "urban_rural": "111",
    }
    values.update(overrides)
    return values


def test_every_attribute_is_registered_and_audited():
    school = school_create(
        actor=approver(),
        code="2144030409",
        ownership="private",
        boarding=True,
        first_grade=1,
        last_grade=5,
        **stated(),
    )
    school.refresh_from_db()
    assert (school.ownership, school.urban_rural, school.boarding) == ("private", "111", True)
    assert (school.first_grade, school.last_grade, school.address) == (
        1,
        5,
        "深圳市福田区福中路1号",
    )
    entry = AuditEntry.objects.get(action="school.create")
    assert entry.detail["code"] == "2144030409"


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(FieldErrors) as refused:
        school_create(
            actor=approver(),
            code="12",
            name="",
            kind=SchoolKind.PRIMARY,
            county_code=FUTIAN,
            address="",
            urban_rural="999",
            ownership="state",
            first_grade=5,
            last_grade=8,
        )
    assert set(refused.value.errors) == {
        "code",
        "name",
        "address",
        "urban_rural",
        "ownership",
        "last_grade",
    }
    assert refused.value.errors["last_grade"][0].code == "grade_outside_kind"


def test_a_teaching_point_names_a_central_school_of_its_county():
    actor = approver()
    with pytest.raises(FieldErrors) as refused:
        school_create(actor=actor, code="2144030410", **stated(kind=SchoolKind.TEACHING_POINT))
    assert refused.value.errors["central_school_code"][0].code == "required"
    elsewhere = SchoolFactory(county=Division.objects.get(code="440305"))
    with pytest.raises(FieldErrors) as refused:
        school_create(
            actor=actor,
            code="2144030410",
            central_school_code=elsewhere.code,
            **stated(kind=SchoolKind.TEACHING_POINT),
        )
    assert refused.value.errors["central_school_code"][0].code == "central_not_in_county"
    central = SchoolFactory(kind=SchoolKind.PRIMARY)
    point = school_create(
        actor=actor,
        code="2144030410",
        central_school_code=central.code,
        **stated(kind=SchoolKind.TEACHING_POINT, urban_rural="220"),
    )
    assert (point.first_grade, point.last_grade, point.central_school) == (1, 4, central)
    with pytest.raises(FieldErrors) as refused:
        school_create(actor=actor, code="2144030411", central_school_code=central.code, **stated())
    assert refused.value.errors["central_school_code"][0].code == "not_a_point"


def test_a_province_registers_anywhere_in_it_a_city_only_in_its_own():
    zhuhai = "440402"  # 香洲区, 珠海
    province = approver("440000")
    school = school_create(actor=province, code="2144040201", **stated(county_code=zhuhai))
    assert (school.city_id, school.province_id) == ("440400", "440000")
    with pytest.raises(NotFound):
        school_create(actor=approver("440300"), code="2144040202", **stated(county_code=zhuhai))
    with pytest.raises(NotFound):
        school_create(
            actor=member(Role.BUREAU_VIEWER, division=Division.objects.get(code=FUTIAN)),
            code="2144030412",
            **stated(),
        )
    with pytest.raises(NotFound):
        school_create(
            actor=member(Role.REGISTRAR, school=SchoolFactory()), code="2144030412", **stated()
        )


def test_a_city_without_counties_holds_schools_and_is_their_city():
    """东莞 (441900) has no counties: it is the county of its schools and their city."""
    school = school_create(
        actor=approver("440000"), code="2144190001", **stated(county_code="441900", name="东莞小学")
    )
    assert (school.county_id, school.city_id, school.province_id) == ("441900", "441900", "440000")
    with pytest.raises(NotFound):
        # A city with counties is no county.
        school_create(actor=approver("440000"), code="2144030001", **stated(county_code="440300"))


def test_an_edit_changes_what_it_names_and_keeps_the_grades_children_sit_in():
    school = SchoolFactory(kind=SchoolKind.PRIMARY)
    school_class = SchoolClassFactory(school=school, grade=6)
    registrar = member(Role.REGISTRAR, school=school)
    student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(birth_date=datetime.date(2015, 3, 5)),
        age_confirmation="test",
    )
    actor = approver()
    with pytest.raises(FieldErrors) as refused:
        school_update(actor=actor, school_id=school.pk, last_grade=5, urban_rural="")
    # A school registered before the address and the code were asked (the factory's) gives them.
    assert set(refused.value.errors) == {"last_grade", "urban_rural", "address"}
    assert refused.value.errors["last_grade"][0].code == "grade_held"
    school_update(
        actor=actor,
        school_id=school.pk,
        name="新名字小学",
        urban_rural="121",
        boarding=True,
        address="深圳市福田区",
    )
    school.refresh_from_db()
    assert (school.name, school.urban_rural, school.boarding) == ("新名字小学", "121", True)
    entry = AuditEntry.objects.get(action="school.update")
    assert entry.after["name"] == "新名字小学"
    with pytest.raises(NotFound):
        school_update(actor=approver("440305"), school_id=school.pk, name="x")


NAMES = ["张春明", "李小红", "王大山", "赵小燕"]


def _teaching_point_with_children(count: int = 3):
    central = SchoolFactory(name="福田中心小学", kind=SchoolKind.PRIMARY)
    SchoolClassFactory(school=central, grade=1, number=1, name="1班")
    point = SchoolFactory(
        name="福田村教学点", kind=SchoolKind.TEACHING_POINT, central_school=central
    )
    first = SchoolClassFactory(school=point, grade=1, number=1, name="1班")
    second = SchoolClassFactory(school=point, grade=2, number=1, name="复式班")
    registrar = member(Role.REGISTRAR, school=point)
    children = []
    for index in range(count):
        school_class = first if index % 2 == 0 else second
        born = datetime.date(2020 - school_class.grade + 1, 3, 5)
        children.append(
            student_register(
                actor=registrar,
                school_class_id=school_class.pk,
                data=student_data(name=NAMES[index], birth_date=born),
                start_date=datetime.date(2026, 9, 1),
            ).student
        )
    return central, point, children


def test_a_school_with_children_cannot_close_and_says_how_many():
    _central, point, _children = _teaching_point_with_children(3)
    with pytest.raises(Conflict) as refused:
        school_close(actor=approver(), school_id=point.pk)
    assert refused.value.code == "school_has_pupils"
    assert refused.value.details["pupils"] == 3
    assert "3" in str(refused.value.message)


def test_an_empty_school_closes_and_takes_no_one_new():
    school = SchoolFactory()
    school_class = SchoolClassFactory(school=school, grade=1)
    school_close(actor=approver(), school_id=school.pk, on=datetime.date(2026, 12, 1))
    school.refresh_from_db()
    assert school.closed_on == datetime.date(2026, 12, 1)
    with pytest.raises(SchoolClosed):
        student_register(
            actor=member(Role.REGISTRAR, school=school),
            school_class_id=school_class.pk,
            data=student_data(),
        )
    with pytest.raises(Conflict):
        school_close(actor=approver(), school_id=school.pk)


def test_a_central_school_does_not_close_while_it_manages_teaching_points():
    central, _point, _children = _teaching_point_with_children(0)
    with pytest.raises(Conflict) as refused:
        school_close(actor=approver(), school_id=central.pk)
    assert refused.value.code == "school_manages_points"


def test_a_teaching_point_merges_into_its_central_school_all_at_once():
    central, point, children = _teaching_point_with_children(3)
    actor = approver()
    plan = school_merge_plan(actor, school_id=point.pk, into_school_id=central.pk)
    assert (plan.pupils, plan.grades_missing, plan.possible) == (3, [], True)
    on = datetime.date(2026, 12, 1)

    done = school_merge(
        actor=actor,
        school_id=point.pk,
        into_school_id=central.pk,
        pupils_confirmed=3,
        on=on,
    )

    assert done.pupils == 3
    moved = Placement.objects.filter(student__in=children, end_date__isnull=True)
    assert {p.school_id for p in moved} == {central.pk}
    assert {p.reason for p in moved} == {PlacementReason.SCHOOL_MERGE}
    assert {p.start_date for p in moved} == {on}
    # The grade is kept; each class goes to the one of the same name (made when absent).
    by_child = {p.student_id: p for p in moved}
    for child in children:
        before = Placement.objects.get(student=child, school=point)
        assert before.end_date == on
        after = by_child[child.pk]
        assert after.grade == before.grade
        assert after.school_class.name == before.school_class.name
        assert after.school_class.academic_year_id == before.school_class.academic_year_id
    assert SchoolClass.objects.filter(school=central, grade=1, name="1班").count() == 1
    assert SchoolClass.objects.filter(school=central, grade=2, name="复式班").count() == 1
    assert set(
        Student.objects.filter(pk__in=[c.pk for c in children]).values_list("school_id", flat=True)
    ) == {central.pk}
    assert RecordEvent.objects.filter(kind=EventKind.SCHOOL_MERGED).count() == 3
    point.refresh_from_db()
    assert (point.closed_on, point.merged_into) == (on, central)
    entry = AuditEntry.objects.get(action="school.merge")
    assert entry.detail["pupils"] == 3 and entry.detail["classes_made"] == 1


def test_a_merge_confirms_the_number_of_children_it_was_shown():
    central, point, _children = _teaching_point_with_children(2)
    with pytest.raises(Conflict) as refused:
        school_merge(
            actor=approver(), school_id=point.pk, into_school_id=central.pk, pupils_confirmed=1
        )
    assert refused.value.code == "pupil_count_changed"
    assert Placement.objects.filter(school=central).count() == 0


def test_a_merge_needs_a_county_approver_and_a_school_of_the_same_county():
    central, point, _children = _teaching_point_with_children(1)
    elsewhere = SchoolFactory(county=Division.objects.get(code="440305"))
    with pytest.raises(NotFound):
        school_merge(
            actor=approver("440300"),  # the city: it may register, not merge
            school_id=point.pk,
            into_school_id=central.pk,
            pupils_confirmed=1,
        )
    with pytest.raises(NotFound):
        school_merge(
            actor=approver("440305"),
            school_id=point.pk,
            into_school_id=central.pk,
            pupils_confirmed=1,
        )
    with pytest.raises(FieldErrors) as refused:
        school_merge(
            actor=approver(), school_id=point.pk, into_school_id=elsewhere.pk, pupils_confirmed=1
        )
    assert refused.value.errors["into_school"][0].code == "into_not_in_county"


def test_a_merge_into_a_school_without_the_grades_is_refused_naming_them():
    _central, point, _children = _teaching_point_with_children(2)
    junior = SchoolFactory(kind=SchoolKind.JUNIOR)
    with pytest.raises(FieldErrors) as refused:
        school_merge(
            actor=approver(), school_id=point.pk, into_school_id=junior.pk, pupils_confirmed=2
        )
    assert refused.value.errors["into_school"][0].code == "grades_not_taught"
