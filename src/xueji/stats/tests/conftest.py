"""A small registry with children whose every figure is known: two counties of Shenzhen, one
county of Guangzhou and one of Guangxi, a school in each, users of each kind of scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.core import codes
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolClass
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

SEPT_1 = datetime.date(2026, 9, 1)


@dataclass
class Small:
    futian: School
    futian_2: School
    nanshan: School
    tianhe: School
    nanning: School
    class_futian: SchoolClass
    class_futian_b: SchoolClass
    class_futian_2: SchoolClass
    class_nanshan: SchoolClass
    class_tianhe: SchoolClass
    class_nanning: SchoolClass
    users: dict[str, Any]

    def register(
        self,
        school_class: SchoolClass,
        *,
        birth_date: datetime.date = datetime.date(2020, 3, 5),
        sex: str = codes.Sex.MALE,
        start: datetime.date = SEPT_1,
        **data: Any,
    ) -> Student:
        registrar = self.users[f"registrar:{school_class.school_id}"]
        return student_register(
            actor=registrar,
            school_class_id=school_class.pk,
            data=student_data(name="测试", birth_date=birth_date, sex=sex, **data),
            start_date=start,
            age_confirmation="test",
        ).student


@pytest.fixture
def small(db: Any) -> Small:
    divisions = {
        d.code: d
        for d in Division.objects.filter(code__in=["440304", "440305", "440106", "450102"])
    }

    def school(code: str, name: str, kind: str = "primary") -> School:
        return SchoolFactory(name=name, county=divisions[code], kind=kind)

    futian = school("440304", "福田一小")
    futian_2 = school("440304", "福田二小")
    nanshan = school("440305", "南山一小")
    tianhe = school("440106", "天河一小")
    nanning = school("450102", "兴宁一小")

    def grade_class(s: School, grade: int = 1, number: int = 1) -> SchoolClass:
        return SchoolClassFactory(school=s, grade=grade, number=number, name=f"{number}班")

    users: dict[str, Any] = {}
    for s in (futian, futian_2, nanshan, tianhe, nanning):
        users[f"registrar:{s.pk}"] = member(Role.REGISTRAR, school=s)
    users["principal_futian"] = member(Role.PRINCIPAL, school=futian)
    users["subject_teacher"] = member(Role.SUBJECT_TEACHER, school=futian)
    users["futian_viewer"] = member(Role.BUREAU_VIEWER, division=divisions["440304"])
    users["nanshan_viewer"] = member(Role.BUREAU_VIEWER, division=divisions["440305"])
    users["shenzhen_viewer"] = member(Role.BUREAU_VIEWER, division=divisions["440304"].parent)
    users["guangdong_viewer"] = member(
        Role.BUREAU_VIEWER, division=divisions["440304"].parent.parent
    )
    users["guangdong_approver"] = member(
        Role.BUREAU_APPROVER, division=divisions["440304"].parent.parent
    )
    users["nation_viewer"] = member(Role.BUREAU_VIEWER)
    users["nation_approver"] = member(Role.BUREAU_APPROVER)
    users["auditor"] = member(Role.AUDITOR)
    return Small(
        futian=futian,
        futian_2=futian_2,
        nanshan=nanshan,
        tianhe=tianhe,
        nanning=nanning,
        class_futian=grade_class(futian),
        class_futian_b=grade_class(futian, 1, 2),
        class_futian_2=grade_class(futian_2),
        class_nanshan=grade_class(nanshan),
        class_tianhe=grade_class(tianhe),
        class_nanning=grade_class(nanning),
        users=users,
    )


@pytest.fixture
def filled(small: Small) -> Small:
    """Nine children in a Futian class (three girls) and one moved there from Nanshan."""
    from xueji.stats.tests.world import transfer

    for _ in range(6):
        small.register(small.class_futian)
    for _ in range(3):
        small.register(small.class_futian, sex=codes.Sex.FEMALE)
    moved = small.register(small.class_nanshan)
    transfer(moved, small.class_futian_b, datetime.date(2026, 10, 12))
    return small


def cells(table: Any) -> dict[tuple[str, str], Any]:
    """{(row label with its parents, column): value or mark} of a table."""
    found: dict[tuple[str, str], Any] = {}
    parent = ""
    for row in table.rows:
        label = str(row.label)
        if row.level == 0:
            parent = label
        else:
            label = f"{parent}/{label}"
        for column, cell in zip(table.columns, row.cells, strict=True):
            found[(label, str(column))] = cell.value if cell.value is not None else cell.display
    return found


# The registries here hold children from 2026 into 2027: every day of them may be asked for,
# whatever day the tests run on. The bound of today is tested on its own (tests/unit/test_dates.py,
# and tests asking for the day after this one).
HORIZON = datetime.date(2027, 12, 31)


@pytest.fixture(autouse=True)
def _statistics_horizon(monkeypatch: Any) -> None:
    from xueji.stats import dates

    monkeypatch.setattr(dates, "today", lambda: max(HORIZON, datetime.date.today()))


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Labels in English (the msgids), so that assertions read as the code."""
    from django.utils import translation

    with translation.override("en"):
        yield
