import pytest

from xueji.access.models import Role
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.schools.models import SchoolKind
from xueji.schools.registry import school_create
from xueji.schools.services import class_create
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db

STATED = {"address": "深圳市福田区福中路1号", "urban_rural": "111"}


def county_approver(code="440304"):
    return member(Role.BUREAU_APPROVER, division=Division.objects.get(code=code))


def test_a_county_registers_a_school_with_its_ancestors():
    school = school_create(
        actor=county_approver(),
        code="2144030401",
        name="福田区实验中学",
        kind=SchoolKind.JUNIOR,
        county_code="440304",
        **STATED,
    )
    assert (school.city_id, school.province_id) == ("440300", "440000")
    assert list(school.grades) == [7, 8, 9]


def test_a_county_cannot_register_a_school_in_another_county():
    with pytest.raises(NotFound):
        school_create(
            actor=county_approver(),
            code="2144010601",
            name="天河区某校",
            kind=SchoolKind.PRIMARY,
            county_code="440106",
            **STATED,
        )


def test_a_school_code_has_ten_digits_and_is_unique():
    actor = county_approver()
    with pytest.raises(FieldErrors) as refused:
        school_create(
            actor=actor, code="21440", name="x", kind="primary", county_code="440304", **STATED
        )
    assert refused.value.errors["code"][0].code == "school_code_format"
    school_create(
        actor=actor, code="2144030402", name="a", kind="primary", county_code="440304", **STATED
    )
    with pytest.raises(FieldErrors) as refused:
        school_create(
            actor=actor, code="2144030402", name="b", kind="primary", county_code="440304", **STATED
        )
    assert refused.value.errors["code"][0].code == "school_code_taken"


def test_the_registrar_opens_classes_of_grades_the_school_teaches():
    school = SchoolFactory(kind=SchoolKind.PRIMARY)
    registrar = member(Role.REGISTRAR, school=school)
    school_class = class_create(
        actor=registrar, school_id=school.pk, start_year=2026, grade=3, number=2
    )
    assert school_class.academic_year.terms.count() == 2
    with pytest.raises(FieldErrors):
        class_create(actor=registrar, school_id=school.pk, start_year=2026, grade=8, number=1)
    with pytest.raises(Conflict):
        class_create(actor=registrar, school_id=school.pk, start_year=2026, grade=3, number=2)
    with pytest.raises(NotFound):
        class_create(
            actor=member(Role.REGISTRAR, school=SchoolFactory()),
            school_id=school.pk,
            start_year=2026,
            grade=3,
            number=3,
        )
