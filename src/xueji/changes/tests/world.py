"""A small world for tests of changes of status: schools in Zhuhai (香洲区), Shenzhen (福田区,
南山区) and Beijing (东城区), each with classes of 2026 and 2027, a registrar and a principal,
bureau approvers of each county and province, and students registered through the service."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from xueji.access.models import Role
from xueji.corrections.evidence import Upload
from xueji.corrections.tests.files import PDF, png
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolClass
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

ZHUHAI = "440402"  # 香洲区, 珠海市, 广东省
FUTIAN = "440304"  # 福田区, 深圳市, 广东省
NANSHAN = "440305"  # 南山区, 深圳市, 广东省
DONGCHENG = "110101"  # 东城区, 北京市
COUNTIES = (ZHUHAI, FUTIAN, NANSHAN, DONGCHENG)
START = datetime.date(2026, 9, 1)


def guardian_request() -> Upload:
    return Upload("申请书.pdf", PDF)


def certificate() -> Upload:
    return Upload("证明.png", png())


@dataclass
class Site:
    school: School
    registrar: Any
    principal: Any
    classes: dict[tuple[int, int, int], SchoolClass] = field(default_factory=dict)

    def klass(self, grade: int, number: int = 1, year: int = 2026) -> SchoolClass:
        return self.classes[(year, grade, number)]


@dataclass
class World:
    sites: dict[str, Site]
    approvers: dict[str, Any]  # division code (county or province) -> bureau approver
    students: list[Student] = field(default_factory=list)

    def site(self, county: str) -> Site:
        return self.sites[county]


def build_site(county: str, *, grades: tuple[int, ...] = (1, 2, 3), years=(2026, 2027)) -> Site:
    division = Division.objects.get(code=county)
    school = SchoolFactory(county=division)
    site = Site(
        school=school,
        registrar=member(Role.REGISTRAR, school=school),
        principal=member(Role.PRINCIPAL, school=school),
    )
    for year in years:
        from xueji.testing.factories import academic_year

        for grade in grades:
            for number in (1, 2):
                site.classes[(year, grade, number)] = SchoolClassFactory(
                    school=school,
                    academic_year=academic_year(year),
                    grade=grade,
                    number=number,
                )
    return site


def build_world(counties: tuple[str, ...] = COUNTIES, **site_options: Any) -> World:
    sites = {county: build_site(county, **site_options) for county in counties}
    approvers: dict[str, Any] = {}
    for county in counties:
        division = Division.objects.get(code=county)
        approvers[county] = member(Role.BUREAU_APPROVER, division=division)
        province = Division.objects.get(code=county[:2] + "0000")
        if province.code not in approvers:
            approvers[province.code] = member(Role.BUREAU_APPROVER, division=province)
    return World(sites=sites, approvers=approvers)


def enrol(site: Site, name: str = "张春铭", grade: int = 1, number: int = 1, on=START) -> Student:
    """A student registered at the site's class (service-made, with its open placement)."""
    birth = datetime.date(2020 - (grade - 1), 3, 5)
    return student_register(
        actor=site.registrar,
        school_class_id=site.klass(grade, number, 2026).pk,
        data=student_data(name=name, birth_date=birth),
        start_date=on,
    ).student
