"""A small registry for the welfare tests: two primary schools of 福田区 (one rural, a boarding
one), one of 南山区, one of 朝阳区 (北京), children registered on 1 September 2026 with a
guardian each; the terms of 2026-2027; the county's approver and each school's registrar; and
the attendance boundary (xueji.welfare.presence) answered by a small in-memory calendar that
each test sets (absences, school days, hollow records)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction

from xueji.access.models import Role
from xueji.access.scope import scope_of
from xueji.access.tests.world import ensure_terms
from xueji.geo.models import Division
from xueji.schools.models import SchoolKind, Term
from xueji.students.models import EventKind, Placement, PlacementReason, Student
from xueji.students.record import record_move
from xueji.students.services import student_register
from xueji.testing.factories import (
    SchoolClassFactory,
    SchoolFactory,
    member,
    resident_id,
    student_data,
)
from xueji.welfare import presence

START = datetime.date(2026, 9, 1)
NAMES = ["王小明", "李小红", "张大山", "赵小燕", "刘一鸣", "陈思远", "孙悦", "周子涵"]


@dataclass
class Attendance:
    """The attendance boundary for a test: every weekday of a term is a school day unless
    listed in `closed`; every class took the roll unless listed in `no_roll`."""

    absent: dict[tuple[int, datetime.date], set[uuid.UUID]] = field(default_factory=dict)
    closed: set[tuple[int, datetime.date]] = field(default_factory=set)
    no_roll: set[tuple[int, datetime.date]] = field(default_factory=set)
    hollow: dict[uuid.UUID, list[tuple[datetime.date, datetime.date | None]]] = field(
        default_factory=dict
    )

    def is_school_day(self, *, school_id: int, day: datetime.date) -> bool:
        return day.weekday() < 5 and (school_id, day) not in self.closed

    def roll_taken(self, *, school_class_id: int, day: datetime.date) -> bool:
        return (school_class_id, day) not in self.no_roll

    def absent_student_ids(self, *, school_class_id: int, day: datetime.date) -> set[uuid.UUID]:
        return set(self.absent.get((school_class_id, day), set()))

    def full_day_absences_between(
        self, *, start: datetime.date, end: datetime.date, school_ids: Any
    ) -> set[tuple[uuid.UUID, datetime.date]]:
        from xueji.schools.models import SchoolClass

        at_schools = set(
            SchoolClass.objects.filter(
                school_id__in=school_ids, pk__in={class_id for class_id, _ in self.absent}
            ).values_list("pk", flat=True)
        )
        return {
            (student, day)
            for (class_id, day), children in self.absent.items()
            if class_id in at_schools and start <= day <= end
            for student in children
        }

    def hollow_student_ids(self, *, on: datetime.date) -> set[uuid.UUID]:
        return {
            student
            for student, periods in self.hollow.items()
            if any(start <= on and (end is None or on < end) for start, end in periods)
        }

    def hollow_periods(self, *, student_id: uuid.UUID) -> list[Any]:
        return list(self.hollow.get(student_id, []))


@pytest.fixture
def attendance(monkeypatch: Any) -> Attendance:
    found = Attendance()
    monkeypatch.setattr(presence, "_selectors", lambda: found)
    return found


@dataclass
class Registry:
    schools: dict[str, Any]
    classes: dict[str, Any]
    registrars: dict[str, Any]
    approver: Any
    nanshan_approver: Any
    province_approver: Any
    nation_approver: Any
    autumn: Term
    spring: Term
    children: dict[str, list[Student]] = field(default_factory=dict)

    def scope(self, user: Any) -> Any:
        user.__dict__.pop("_xueji_scope", None)
        return scope_of(user)

    def register(
        self, key: str, n: int = 1, *, on: datetime.date = START, grade: int = 1
    ) -> list[Student]:
        made = []
        for _i in range(n):
            birth = datetime.date(2020 - (grade - 1), 3, 5)
            data = student_data(
                name=NAMES[len(self.children.get(key, [])) % len(NAMES)],
                birth_date=birth,
                id_number=resident_id(birth_date=birth),
            )
            student = student_register(
                actor=self.registrars[key],
                school_class_id=self.classes[key].pk,
                data=data,
                start_date=on,
                age_confirmation="测试",
            ).student
            self.children.setdefault(key, []).append(student)
            made.append(student)
        return made

    def transfer(self, student: Student, to: str, on: datetime.date) -> None:
        with transaction.atomic():
            student = Student.objects.select_for_update().get(pk=student.pk)
            placement = Placement.objects.get(student=student, end_date__isnull=True)
            record_move(
                actor=self.registrars[to],
                student=student,
                placement=placement,
                to_class=self.classes[to],
                on=on,
                reason=PlacementReason.TRANSFER,
                event=EventKind.TRANSFERRED,
            )


@pytest.fixture
def registry(db: Any) -> Registry:
    ensure_terms(2026)
    futian = Division.objects.get(code="440304")
    nanshan = Division.objects.get(code="440305")
    chaoyang = Division.objects.get(code="110105")
    schools = {
        "a": SchoolFactory(name="福田第一小学", county=futian, urban_rural="220"),
        "b": SchoolFactory(name="福田第二小学", county=futian, urban_rural="111", boarding=True),
        "c": SchoolFactory(name="南山小学", county=nanshan, urban_rural="210"),
        "e": SchoolFactory(name="朝阳小学", county=chaoyang, urban_rural="210"),
        "s": SchoolFactory(
            name="福田特殊教育学校", county=futian, kind=SchoolKind.SPECIAL, urban_rural="111"
        ),
    }
    classes = {
        key: SchoolClassFactory(school=school, grade=1, number=1) for key, school in schools.items()
    }
    registrars = {key: member(Role.REGISTRAR, school=school) for key, school in schools.items()}
    return Registry(
        schools=schools,
        classes=classes,
        registrars=registrars,
        approver=member(Role.BUREAU_APPROVER, division=futian),
        nanshan_approver=member(Role.BUREAU_APPROVER, division=nanshan),
        province_approver=member(
            Role.BUREAU_APPROVER, division=Division.objects.get(code="440000")
        ),
        nation_approver=member(Role.BUREAU_APPROVER),
        autumn=Term.objects.get(academic_year__start_year=2026, number=1),
        spring=Term.objects.get(academic_year__start_year=2026, number=2),
    )
