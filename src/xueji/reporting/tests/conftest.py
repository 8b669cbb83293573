"""A small province for the reporting tests: three schools in two counties of Shenzhen and one
in Guangzhou, children registered on 1 September 2026, and the staff of every level."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.core import codes
from xueji.geo.models import Division
from xueji.reporting.models import ReportRound, UnitReport
from xueji.reporting.services import round_open
from xueji.schools.models import School, SchoolClass
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

SEPT_1 = datetime.date(2026, 9, 1)
CENSUS = datetime.date(2026, 9, 30)
DEADLINES = {
    "school": datetime.date(2026, 10, 10),
    "county": datetime.date(2026, 10, 15),
    "city": datetime.date(2026, 10, 20),
    "province": datetime.date(2026, 10, 25),
    "nation": datetime.date(2026, 10, 31),
}


@dataclass
class Province:
    a: School
    b: School
    c: School
    d: School
    class_a1: SchoolClass
    class_a2: SchoolClass
    class_b: SchoolClass
    class_c: SchoolClass
    class_d: SchoolClass
    users: dict[str, Any]
    children: dict[str, Student] = field(default_factory=dict)

    def register(
        self,
        school_class: SchoolClass,
        name: str,
        *,
        sex: str = codes.Sex.MALE,
        birth_date: datetime.date = datetime.date(2020, 3, 5),
        on: datetime.date = SEPT_1,
        **extra: Any,
    ) -> Student:
        registrar = self.users[f"registrar_{school_class.school.code}"]
        student = student_register(
            actor=registrar,
            school_class_id=school_class.pk,
            data=student_data(name=name, sex=sex, birth_date=birth_date, **extra),
            start_date=on,
            age_confirmation="核实无误" if birth_date.year < 2019 or birth_date.year > 2021 else "",
        ).student
        self.children[name] = student
        return student

    def open_round(self, census: datetime.date = CENSUS, **kwargs: Any) -> ReportRound:
        return round_open(
            actor=self.users["province"],
            title=kwargs.pop("title", "2026年秋季学期事业统计"),
            census_date=census,
            tables=kwargs.pop("tables", ["grade_age_sex", "ethnicity", "boarding", "movement"]),
            deadlines=kwargs.pop("deadlines", DEADLINES),
            province_code="440000",
            **kwargs,
        )

    def unit(self, report_round: ReportRound, what: Any) -> UnitReport:
        if isinstance(what, School):
            return UnitReport.objects.get(round=report_round, school=what)
        level = {6: "county"}.get(len(what), "county")
        if what.endswith("0000"):
            level = "province"
        elif what.endswith("00"):
            level = "city"
        return UnitReport.objects.get(round=report_round, division_id=what, level=level)


@pytest.fixture
def province(db: Any) -> Province:
    futian = Division.objects.get(code="440304")
    nanshan = Division.objects.get(code="440305")
    tianhe = Division.objects.get(code="440106")
    a = SchoolFactory(name="福田第一小学", county=futian)
    b = SchoolFactory(name="福田第二小学", county=futian)
    c = SchoolFactory(name="南山小学", county=nanshan)
    d = SchoolFactory(name="天河小学", county=tianhe)
    classes = {
        "a1": SchoolClassFactory(school=a, grade=1, number=1, name="1班"),
        "a2": SchoolClassFactory(school=a, grade=1, number=2, name="2班"),
        "b": SchoolClassFactory(school=b, grade=1, number=1, name="1班"),
        "c": SchoolClassFactory(school=c, grade=1, number=1, name="1班"),
        "d": SchoolClassFactory(school=d, grade=1, number=1, name="1班"),
    }
    users: dict[str, Any] = {}
    for school in (a, b, c, d):
        users[f"registrar_{school.code}"] = member(Role.REGISTRAR, school=school)
        users[f"principal_{school.code}"] = member(Role.PRINCIPAL, school=school)
    users["futian"] = member(Role.BUREAU_APPROVER, division=futian)
    users["nanshan"] = member(Role.BUREAU_APPROVER, division=nanshan)
    users["tianhe"] = member(Role.BUREAU_APPROVER, division=tianhe)
    users["shenzhen"] = member(Role.BUREAU_APPROVER, division=futian.parent)
    users["guangzhou"] = member(Role.BUREAU_APPROVER, division=tianhe.parent)
    users["province"] = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440000"))
    users["futian_viewer"] = member(Role.BUREAU_VIEWER, division=futian)
    world = Province(
        a, b, c, d, classes["a1"], classes["a2"], classes["b"], classes["c"], classes["d"], users
    )
    world.register(world.class_a1, "张春铭")
    world.register(world.class_a1, "李小红", sex=codes.Sex.FEMALE)
    world.register(world.class_a2, "王大山")
    world.register(world.class_b, "赵小燕", sex=codes.Sex.FEMALE)
    world.register(world.class_c, "刘一鸣")
    world.register(world.class_d, "陈思远")
    return world
