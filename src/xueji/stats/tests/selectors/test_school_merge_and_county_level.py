"""A school merged as a whole (整体并入) is neither a transfer, a new entrant nor an exit; a city
without counties (东莞) is a county in the statistics: its figures are by school."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.schools.registry import school_merge
from xueji.stats.selectors import annual_report, stats_target
from xueji.stats.targets import TargetSpec
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member

pytestmark = pytest.mark.django_db

FUTIAN = TargetSpec("county", code="440304")


@pytest.fixture
def after_the_year(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2027, 9, 5))


def test_a_merge_is_counted_as_neither_a_transfer_nor_an_exit(small, after_the_year):
    for _ in range(3):
        small.register(small.class_futian_2)
    small.register(small.class_futian)
    approver = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440304"))
    merged = school_merge(
        actor=approver,
        school_id=small.futian_2.pk,
        into_school_id=small.futian.pk,
        pupils_confirmed=3,
        on=datetime.date(2026, 11, 2),
    )
    assert merged.pupils == 3

    report = annual_report(small.users["futian_viewer"], FUTIAN, 2026)
    flows = {row.key: [c.value for c in row.cells] for row in report.flows.rows}
    assert flows["entrants"] == [4, 4, 0]  # the registrations only
    for kind in ("transfers_in", "transfers_out", "transfers_within", "graduated", "dropped_out"):
        assert flows[kind] == [0, 0, 0], kind
    assert report.undated_exits.value == 0


def test_a_city_without_counties_is_a_county_of_schools():
    dongguan = Division.objects.get(code="441900")
    school = SchoolFactory(name="东莞一小", county=dongguan)
    SchoolClassFactory(school=school, grade=1)
    county_viewer = member(Role.BUREAU_VIEWER, division=dongguan, level="county")
    own = stats_target(county_viewer)
    assert (own.spec.level, own.spec.code) == ("county", "441900")
    assert [unit.label for unit in own.units] == ["东莞一小"]

    province = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440000"))
    guangdong = stats_target(province, TargetSpec("province", code="440000"))
    assert {u.spec for u in guangdong.units if u.key == "441900"} == {"county:441900"}
    # Asked for as a city, it is the county of its schools.
    as_city = stats_target(province, TargetSpec("city", code="441900"))
    assert as_city.spec.level == "county" and [u.label for u in as_city.units] == ["东莞一小"]
    city_viewer = member(Role.BUREAU_VIEWER, division=dongguan, level="city")
    assert stats_target(city_viewer).spec == TargetSpec("county", code="441900")
