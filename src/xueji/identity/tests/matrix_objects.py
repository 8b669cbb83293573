"""Objects and bodies of identity for the permission matrix (xueji.access.tests.test_matrix)."""

from __future__ import annotations

import datetime
from typing import Any

# API endpoints of identity that take a file.
MULTIPART = {"load_roll"}


def pair(place: Any) -> Any:
    """A proposed pair of the place's child and a J-numbered record of the same name at the
    same school (made once a place)."""
    from django.db.models import Q

    from xueji.access.models import Role
    from xueji.core import codes
    from xueji.identity.models import DuplicatePair
    from xueji.students.services import student_register
    from xueji.testing.factories import member, student_data

    found = DuplicatePair.objects.filter(
        Q(student_a=place.student) | Q(student_b=place.student)
    ).first()
    if found is not None:
        return found
    registrar = member(Role.REGISTRAR, school=place.school)
    other = student_register(
        actor=registrar,
        school_class_id=place.school_class.pk,
        data=student_data(
            name=place.student.name,
            birth_date=place.student.birth_date,
            id_doc_type=codes.IdDocType.NONE,
            id_number="",
        ),
        age_confirmation="矩阵",
    ).student
    a, b = sorted([place.student.pk, other.pk])
    return DuplicatePair.objects.create(
        student_a_id=a,
        student_b_id=b,
        county_a=place.county.code,
        county_b=place.county.code,
        score=12.0,
        contributions={"name": 4.0, "birth_date": 3.0},
        due_on=datetime.date(2026, 12, 31),
    )


def unrecorded(place: Any) -> Any:
    """A child of the place's county in the roll with no record (made once a place)."""
    from xueji.identity.models import RollEntry, RollLoad, UnrecordedChild

    found = UnrecordedChild.objects.filter(county_code=place.county.code).first()
    if found is not None:
        return found
    load = RollLoad.objects.create(
        province_code=place.county.code[:2] + "0000",
        file_name="roll.csv",
        sha256="0" * 64,
        state="loaded",
        loaded_by=place.student.events.first().actor,
    )
    entry = RollEntry.objects.create(
        province_code=load.province_code,
        id_number_masked=place.county.code + "********0011",
        id_number_sealed="-",
        id_number_index=f"matrix-{place.county.code}",
        name="无籍",
        name_key="无籍",
        sex="1",
        birth_date=datetime.date(2016, 5, 1),
        household_division=place.county.code,
        load=load,
    )
    return UnrecordedChild.objects.create(roll_entry=entry, county_code=place.county.code)


def registration(place: Any) -> Any:
    """A registration of the place's school waiting for its county's review (县级审核; made
    once a place, with the province's setting on only while it is made)."""
    from xueji.access.models import Role
    from xueji.identity.models import ProvinceIdentityRule
    from xueji.students.models import RegistrationReview
    from xueji.students.services import student_register
    from xueji.testing.factories import member, student_data

    found = RegistrationReview.objects.filter(student__school=place.school).first()
    if found is not None:
        return found.student
    province = place.school.province_id
    rule, _created = ProvinceIdentityRule.objects.get_or_create(province_code=province)
    was = rule.county_review
    ProvinceIdentityRule.objects.filter(pk=province).update(county_review=True)
    try:
        student = student_register(
            actor=member(Role.REGISTRAR, school=place.school),
            school_class_id=place.school_class.pk,
            data=student_data(name="审核中", birthplace_code=place.county.code),
            age_confirmation="矩阵",
        ).student
    finally:
        ProvinceIdentityRule.objects.filter(pk=province).update(county_review=was)
    return student


def bodies(place: Any) -> dict[str, Any]:
    """Bodies for the endpoints that take one (refused by field, or harmless, once allowed)."""
    return {
        "load_roll": lambda: {},
        "decide_pair": lambda: {"decision": "not_same"},
        "undo_pair": lambda: {},
        "scan_area": lambda: {},
        "decide_unrecorded": lambda: {"outcome": "exempted", "reason": "矩阵"},
        "set_identity_settings": lambda: {"population_check": False},
        "approve_registration": lambda: {},
        "return_registration": lambda: {"reason": "矩阵"},
        "resubmit_registration": lambda: {},
        "withdraw_registration": lambda: {"reason": "矩阵"},
    }
