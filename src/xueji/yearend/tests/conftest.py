"""A small registry for the year-end tests: two primary schools (grades 1-6) of 福田区 with one
class per grade of two students each, in 2026-2027; a junior high school (7-9) with an empty
grade 7 class for 2027-2028; the county's approver and the registrars."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.changes.models import ChangeRequest, ChangeState
from xueji.geo.models import Division
from xueji.schools.models import SchoolKind
from xueji.students.models import Placement, RecordState, Student
from xueji.students.services import student_register
from xueji.testing.factories import (
    SchoolClassFactory,
    SchoolFactory,
    academic_year,
    member,
    resident_id,
    student_data,
)

FROM_YEAR = 2026
NAMES = ["王小明", "李小红", "张大山", "赵小燕", "刘一鸣", "陈思远"]


@dataclass
class Registry:
    primaries: list[Any]
    junior: Any
    junior_class: Any
    approver: Any
    registrars: dict[int, Any]
    students: dict[tuple[int, int], list[Student]] = field(default_factory=dict)

    def student(self, school: int, grade: int, index: int = 0) -> Student:
        return self.students[(school, grade)][index]


def register(registrar: Any, school_class: Any, grade: int, n: int) -> Student:
    birth = datetime.date(2020 - (grade - 1), 3, 5)
    data = student_data(
        name=NAMES[n % len(NAMES)],
        birth_date=birth,
        id_number=resident_id(birth_date=birth),
    )
    return student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=data,
        start_date=datetime.date(FROM_YEAR, 9, 1),
    ).student


def approve_change(
    student: Student, kind: str, *, state: str = ChangeState.APPROVED, **extra: Any
) -> Any:
    placement = Placement.objects.get(student=student, end_date__isnull=True)
    return ChangeRequest.objects.create(
        student=student,
        kind=kind,
        state=state,
        from_school_id=placement.school_id,
        from_grade=placement.grade,
        academic_year=academic_year(FROM_YEAR),
        reason="家长申请",
        filed_by=member(Role.REGISTRAR, school=placement.school),
        filed_on=datetime.date(FROM_YEAR, 10, 8),
        **extra,
    )


def suspend(student: Student) -> None:
    Student.objects.filter(pk=student.pk).update(state=RecordState.SUSPENDED)


@pytest.fixture(autouse=True)
def promotion_period_all_year(settings: Any) -> None:
    """These tests' runs are not about the time of year (test_promotion_period's are): the
    promotion period is the whole year, whatever day the suite runs on."""
    settings.XUEJI_YEAREND_PROMOTION_PERIODS = {"nation": {"from": "01-01", "to": "12-31"}}


@pytest.fixture
def registry(db: Any) -> Registry:
    county = Division.objects.get(code="440304")
    approver = member(Role.BUREAU_APPROVER, division=county, username="county_approver")
    primaries = [SchoolFactory(name=f"福田第{i}小学") for i in (1, 2)]
    registrars: dict[int, Any] = {}
    students: dict[tuple[int, int], list[Student]] = {}
    n = 0
    for index, school in enumerate(primaries):
        registrar = member(Role.REGISTRAR, school=school, username=f"registrar_{index}")
        registrars[index] = registrar
        for grade in range(1, 7):
            school_class = SchoolClassFactory(
                school=school, grade=grade, number=1, name=f"{grade}年级1班"
            )
            students[(index, grade)] = []
            for _ in range(2):
                students[(index, grade)].append(register(registrar, school_class, grade, n))
                n += 1
    junior = SchoolFactory(name="福田第一初级中学", kind=SchoolKind.JUNIOR)
    junior_class = SchoolClassFactory(
        school=junior,
        grade=7,
        number=1,
        name="初一1班",
        academic_year=academic_year(FROM_YEAR + 1),
    )
    registrars[2] = member(Role.REGISTRAR, school=junior, username="registrar_junior")
    return Registry(primaries, junior, junior_class, approver, registrars, students)


def placement_table() -> list[tuple[Any, ...]]:
    """The whole placement table without generated ids: compared between runs."""
    return sorted(
        Placement.objects.values_list(
            "student_id",
            "school_id",
            "school_class__academic_year__start_year",
            "school_class__grade",
            "school_class__number",
            "school_class__name",
            "grade",
            "start_date",
            "end_date",
            "reason",
        ),
        key=lambda row: tuple(str(v) for v in row),
    )


def student_table() -> list[tuple[Any, ...]]:
    return sorted(Student.objects.values_list("pk", "state", "school_id"), key=lambda r: str(r[0]))
