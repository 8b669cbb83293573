"""Flows between counties and provinces, net inflow, 随迁子女 by province of origin."""

from __future__ import annotations

import datetime

import pytest

from xueji.core.errors import ServiceError
from xueji.stats.selectors import mobility_report
from xueji.stats.targets import TargetSpec
from xueji.stats.tests.conftest import cells
from xueji.stats.tests.world import transfer

pytestmark = pytest.mark.django_db

OCT_1 = datetime.date(2026, 10, 1)
PERIOD = {"start": datetime.date(2026, 9, 1), "end": datetime.date(2026, 12, 31)}


def test_moves_between_counties_form_the_matrix_and_the_net_inflow(small):
    a = small.register(small.class_futian)
    b = small.register(small.class_futian)
    c = small.register(small.class_nanshan)
    d = small.register(small.class_futian)
    transfer(a, small.class_nanshan, OCT_1)
    transfer(b, small.class_tianhe, OCT_1)
    transfer(c, small.class_futian, datetime.date(2026, 10, 5))
    transfer(d, small.class_futian_2, OCT_1)  # inside Futian: not a move between counties
    report = mobility_report(
        small.users["guangdong_approver"], TargetSpec("province", code="440000"), **PERIOD
    )
    matrix = cells(report.matrix)

    assert matrix[("福田区", "南山区")] == 1
    assert matrix[("福田区", "天河区")] == 1
    assert matrix[("南山区", "福田区")] == 1
    assert matrix[("福田区", "Departures")] == 2
    assert matrix[("Arrivals", "福田区")] == 1
    assert matrix[("Arrivals", "Departures")] == 3
    net = {row.label: [cell.value for cell in row.cells] for row in report.net.rows}
    assert net["福田区"] == [1, 2, -1]
    assert net["南山区"] == [1, 1, 0]
    assert net["天河区"] == [1, 0, 1]
    assert sorted(report.links) == [
        ("南山区", "福田区", 1),
        ("福田区", "南山区", 1),
        ("福田区", "天河区", 1),
    ]


def test_a_completed_transfer_shows_at_once_and_only_in_its_period(small):
    child = small.register(small.class_futian)
    user = small.users["nation_approver"]
    spec = TargetSpec("nation")
    assert mobility_report(user, spec, **PERIOD).links == []
    transfer(child, small.class_nanning, datetime.date(2026, 11, 2))

    report = mobility_report(user, spec, **PERIOD)
    assert report.level == "province"
    assert report.links == [("广东省", "广西壮族自治区", 1)]
    earlier = mobility_report(
        user, spec, start=datetime.date(2026, 9, 1), end=datetime.date(2026, 11, 1)
    )
    assert earlier.links == []
    by_county = mobility_report(user, spec, level="county", **PERIOD)
    assert by_county.links == [("福田区", "兴宁区", 1)]


def test_a_county_sees_the_moves_into_and_out_of_it_only(small):
    a = small.register(small.class_futian)
    b = small.register(small.class_nanshan)
    transfer(a, small.class_nanshan, OCT_1)
    transfer(b, small.class_tianhe, OCT_1)  # Nanshan → Tianhe: none of Futian's business
    report = mobility_report(small.users["futian_viewer"], None, **PERIOD)
    assert report.links == [("福田区", "南山区", 1)]
    assert [row.label for row in report.net.rows] == ["福田区"]


def test_migrant_children_by_province_of_household_registration(small):
    small.register(small.class_futian, migrant_child=True, hukou_division_code="450102")
    small.register(small.class_futian, migrant_child=True, hukou_division_code="450103")
    small.register(small.class_futian, migrant_child=True, hukou_division_code="440305")
    small.register(small.class_futian, migrant_child=False, hukou_division_code="450102")
    report = mobility_report(small.users["futian_viewer"], None, **PERIOD)
    migrants = cells(report.migrants)
    assert migrants[("广西壮族自治区", "Children")] == 2
    assert migrants[("广东省", "Children")] == 1
    assert migrants[("Total", "Children")] == 3


def test_a_period_that_ends_before_it_starts_is_refused(small):
    with pytest.raises(ServiceError) as refused:
        mobility_report(
            small.users["futian_viewer"],
            None,
            start=datetime.date(2026, 10, 2),
            end=datetime.date(2026, 10, 1),
        )
    assert refused.value.code == "bad_period"
