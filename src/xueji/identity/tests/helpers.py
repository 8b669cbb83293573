"""Helpers of the identity tests: a roll file, a province approver, registrations."""

from __future__ import annotations

import datetime
from typing import Any

from xueji.access.models import Role, ScopeLevel
from xueji.geo.models import Division
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data

HEADER = "id_number,name,sex,birth_date,household_division,household_address,household_type\n"


def roll_csv(*rows: tuple[str, str, str, datetime.date, str]) -> bytes:
    """A roll file: (id_number, name, sex M/F, birth date, household division) per child."""
    lines = [
        f"{number},{name},{sex},{born.isoformat()},{division},深圳市福田区某路1号,3\n"
        for number, name, sex, born, division in rows
    ]
    return (HEADER + "".join(lines)).encode()


def province_approver(code: str = "440000") -> Any:
    return member(
        Role.BUREAU_APPROVER, division=Division.objects.get(code=code), level=ScopeLevel.PROVINCE
    )


def county_approver(code: str = "440304") -> Any:
    return member(
        Role.BUREAU_APPROVER, division=Division.objects.get(code=code), level=ScopeLevel.COUNTY
    )


def register(
    school_class: Any = None, registrar: Any = None, age_confirmation: str = "", **data: Any
) -> Any:
    school_class = school_class or SchoolClassFactory(grade=1)
    registrar = registrar or member(Role.REGISTRAR, school=school_class.school)
    return student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(**data),
        age_confirmation=age_confirmation,
    ).student
