"""Fixtures of the account administration's tests: two counties of 深圳 (福田, 南山) and one of
广州 (天河), a school in each, and managers at every level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.testing.factories import SchoolFactory, member


@dataclass
class Area:
    futian: Division
    nanshan: Division
    tianhe: Division
    shenzhen: Division
    guangzhou: Division
    guangdong: Division
    beijing: Division
    school: Any  # in 福田
    nanshan_school: Any
    tianhe_school: Any

    def manager(self, role: str, level: str, username: str | None = None) -> Any:
        division = {
            "county": self.futian,
            "city": self.shenzhen,
            "province": self.guangdong,
            "nation": None,
        }[level]
        return member(role, division=division, level=level, username=username)


@pytest.fixture
def area(db: Any) -> Area:
    divisions = {code: Division.objects.get(code=code) for code in (
        "440304", "440305", "440106", "440300", "440100", "440000", "110000")}  # fmt: skip
    return Area(
        futian=divisions["440304"],
        nanshan=divisions["440305"],
        tianhe=divisions["440106"],
        shenzhen=divisions["440300"],
        guangzhou=divisions["440100"],
        guangdong=divisions["440000"],
        beijing=divisions["110000"],
        school=SchoolFactory(county=divisions["440304"], code="4403040001", name="福田第一小学"),
        nanshan_school=SchoolFactory(county=divisions["440305"], code="4403050001"),
        tianhe_school=SchoolFactory(county=divisions["440106"], code="4401060001"),
    )


@pytest.fixture
def security_admin(area: Area) -> Any:
    """The nation's security administrator."""
    return area.manager(Role.SECURITY_ADMIN, "nation", "sa_nation")


@pytest.fixture
def county_approver(area: Area) -> Any:
    return area.manager(Role.BUREAU_APPROVER, "county", "futian_approver")


@pytest.fixture
def registrar(area: Area) -> Any:
    return member(Role.REGISTRAR, school=area.school, username="reg_futian")
