"""A real headless Chromium opens each level's dashboard and the other statistics pages and finds
every chart drawn by ECharts with data (a canvas, and series holding numbers).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.stats.tests.world import synthesize
from xueji.testing.browser import chromium_context, sign_in_session
from xueji.testing.factories import member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = datetime.date(2026, 11, 2)

CHARTS_DRAWN = """
() => {
  const charts = [...document.querySelectorAll('[data-chart]')];
  if (!charts.length || typeof echarts === 'undefined') return false;
  return charts.map((element) => {
    const chart = echarts.getInstanceByDom(element);
    if (!chart || !element.querySelector('canvas')) return null;
    const series = chart.getOption().series || [];
    const values = series.flatMap((s) => (s.data || []).concat(s.links || []));
    const numbers = values.filter((v) => v !== null && v !== undefined && v !== '-');
    return {key: element.dataset.chart, series: series.length, values: numbers.length};
  });
}
"""


@pytest.fixture
def browser_context(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium_context(monkeypatch, locale="en-US", height=1000) as context:
        yield context


def drawn_charts(page: Any) -> list[dict[str, Any]]:
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')]"
        ".every((e) => e.dataset.rendered === 'true')"
    )
    found = page.evaluate(CHARTS_DRAWN)
    assert found and all(chart is not None for chart in found), found
    return found


def test_each_levels_dashboard_draws_its_charts_with_data(browser_context, live_server):
    world = synthesize(students=240, seed=5)
    school = world.schools[0]
    county = Division.objects.get(code=school.county_id)
    users = {
        "school": (member(Role.PRINCIPAL, school=school), {"grades", "units"}),
        "county": (member(Role.BUREAU_VIEWER, division=county), {"grades", "units", "kinds"}),
        "city": (member(Role.BUREAU_VIEWER, division=county.parent), {"grades", "units", "kinds"}),
        "province": (
            member(Role.BUREAU_VIEWER, division=county.parent.parent),
            {"grades", "units", "kinds"},
        ),
        "nation": (member(Role.BUREAU_VIEWER), {"grades", "units", "kinds"}),
    }
    page = browser_context.new_page()
    for level, (user, expected) in users.items():
        sign_in_session(browser_context, live_server, user)
        page.goto(f"{live_server.url}/stats/?date={DAY.isoformat()}")
        assert page.locator("h1").inner_text()
        charts = drawn_charts(page)
        assert {c["key"] for c in charts} == expected, level
        for chart in charts:
            assert chart["values"] > 0, (level, chart)


def test_the_other_statistics_pages_draw_their_charts(browser_context, live_server):
    synthesize(students=240, seed=6)
    sign_in_session(browser_context, live_server, member(Role.BUREAU_APPROVER))
    page = browser_context.new_page()
    pages = {
        f"/stats/grade-age-sex/?date={DAY}": {"pyramid", "heatmap"},
        f"/stats/breakdown/?date={DAY}": {
            "ethnicity",
            "hukou_nature",
            "left_behind",
            "migrant_child",
            "disability",
            "boarding",
            "school_kind",
        },
        "/stats/annual/?year=2026": None,
        "/stats/mobility/?start=2026-09-01&end=2026-12-31&level=county": {
            "sankey",
            "matrix",
            "net",
            "migrants",
        },
    }
    for path, expected in pages.items():
        page.goto(live_server.url + path)
        charts = drawn_charts(page)
        if expected is not None:
            assert {c["key"] for c in charts} == expected, path
        for chart in charts:
            assert chart["values"] > 0, (path, chart)
    # The area picker moves down a level: the province of Guangdong's figures.
    page.goto(f"{live_server.url}/stats/?date={DAY}")
    page.select_option("#id_scope", "province:440000")
    page.wait_for_url("**scope=province%3A440000**")
    assert "广东省" in page.locator("h1").inner_text()
    assert drawn_charts(page)
