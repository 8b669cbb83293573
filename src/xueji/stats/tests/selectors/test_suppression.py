"""Small cells: exact figures for school staff, county staff and approvers; "<5" (and the
figures that would give it away) for bureau viewers above the county."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings

from xueji.core import codes
from xueji.stats.selectors import age_report, breakdown_report, dashboard_report
from xueji.stats.targets import TargetSpec
from xueji.stats.tests.conftest import cells

pytestmark = pytest.mark.django_db

ON = datetime.date(2026, 10, 1)
FUTIAN = TargetSpec("county", code="440304")


@pytest.fixture
def nine_boys_two_girls(small):
    for _ in range(9):
        small.register(small.class_futian)
    for _ in range(2):
        small.register(small.class_futian, sex=codes.Sex.FEMALE)
    return small


@pytest.mark.parametrize(
    "user", ["principal_futian", "futian_viewer", "guangdong_approver", "nation_approver"]
)
def test_those_who_may_see_the_records_see_exact_figures(nine_boys_two_girls, user):
    report = age_report(
        nine_boys_two_girls.users[user], FUTIAN if "futian" not in user else None, ON
    )
    table = cells(report.table)
    assert table[("Grade 1/Girls", "Total")] == 2
    assert not report.table.suppressed


@pytest.mark.parametrize("user", ["shenzhen_viewer", "guangdong_viewer", "nation_viewer"])
def test_viewers_above_the_county_see_small_cells_hidden(nine_boys_two_girls, user):
    report = age_report(nine_boys_two_girls.users[user], FUTIAN, ON)
    table = cells(report.table)
    assert table[("Grade 1/Girls", "Total")] == "<5"
    # Boys and the total would give the girls away: the boys are hidden too (but not as "<5").
    assert table[("Grade 1/Boys", "Total")] == "×"
    assert table[("Grade 1", "Total")] == 11
    assert report.table.suppressed
    assert report.target.exact is False


def test_dashboard_figures_and_breakdowns_are_suppressed_alike(nine_boys_two_girls):
    viewer = nine_boys_two_girls.users["guangdong_viewer"]
    dashboard = dashboard_report(viewer, FUTIAN, ON)
    figures = {f.key: f.cell.display for f in dashboard.figures}
    assert figures["on_roll"] == "11" and figures["girls"] == "<5" and figures["boys"] == "×"
    breakdowns = {t.key: cells(t) for t in breakdown_report(viewer, FUTIAN, ON).tables}
    assert breakdowns["ethnicity"][("汉族", "Girls")] == "<5"
    assert breakdowns["ethnicity"][("Total", "Total")] == 11


@override_settings(XUEJI_SMALL_CELL_THRESHOLD=2)
def test_the_threshold_is_a_setting(nine_boys_two_girls):
    report = age_report(nine_boys_two_girls.users["nation_viewer"], FUTIAN, ON)
    assert cells(report.table)[("Grade 1/Girls", "Total")] == 2


def test_zero_is_shown_as_zero(nine_boys_two_girls):
    report = breakdown_report(
        nine_boys_two_girls.users["nation_viewer"], FUTIAN, ON, ["left_behind"]
    )
    assert cells(report.tables[0])[("One parent away", "Total")] == 0
