"""A round end to end through the pages in a real Chromium, in Chinese: the province opens it;
the registrar prepares and the principal confirms a school; the county returns it with a reason;
the school resubmits; the county, the city and the province confirm."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from xueji.reporting.models import ReportRound, UnitReport, UnitState
from xueji.reporting.services import unit_confirm, unit_prepare
from xueji.testing.browser import chromium_context, sign_in_session

from .conftest import CENSUS, DEADLINES, Province

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium_context(monkeypatch, locale="zh-CN", height=1000) as context:
        yield context


def _as(context: Any, live_server: Any, user: Any) -> Any:
    sign_in_session(context, live_server, user)
    return context.new_page()


def _act(page: Any, form: str, button: str) -> None:
    page.check(f"#{form} input[name=confirm]")
    page.click(f"#{button}")
    page.wait_for_load_state()


def _school_by_services(province: Province, report_round: Any, school: Any) -> None:
    unit = province.unit(report_round, school)
    unit_prepare(actor=province.users[f"registrar_{school.code}"], unit_id=unit.pk)
    unit_confirm(actor=province.users[f"principal_{school.code}"], unit_id=unit.pk)


def _state(unit: UnitReport) -> str:
    unit.refresh_from_db()
    return unit.state


def test_a_round_through_the_pages(province: Province, browser_context: Any, live_server: Any):
    url = live_server.url
    page = _as(browser_context, live_server, province.users["province"])
    page.goto(f"{url}/reporting/")
    assert "事业统计上报" in page.locator("h1").inner_text()
    page.fill("#id_title", "2026年秋季学期事业统计")
    page.fill("#id_census_date", CENSUS.isoformat())
    for level, day in DEADLINES.items():
        page.fill(f"#id_deadline_{level}", day.isoformat())
    page.click("#open-round-button")
    page.wait_for_load_state()
    report_round = ReportRound.objects.get()
    assert report_round.division_id == "440000"
    assert "2026年秋季学期事业统计" in page.content()

    a = province.unit(report_round, province.a)
    registrar = _as(browser_context, live_server, province.users[f"registrar_{province.a.code}"])
    registrar.goto(f"{url}/reporting/units/{a.pk}/")
    _act(registrar, "prepare-form", "prepare-button")
    assert _state(a) == UnitState.PREPARED

    principal = _as(browser_context, live_server, province.users[f"principal_{province.a.code}"])
    principal.goto(f"{url}/reporting/units/{a.pk}/")
    assert "张*铭" in principal.locator("#changes").inner_text()
    _act(principal, "confirm-form", "confirm-button")
    assert _state(a) == UnitState.CONFIRMED
    assert "已确认" in principal.locator("#unit-state").inner_text()

    _school_by_services(province, report_round, province.b)
    county = _as(browser_context, live_server, province.users["futian"])
    futian = province.unit(report_round, "440304")
    county.goto(f"{url}/reporting/units/{futian.pk}/")
    assert county.locator("#units-sum").inner_text() == "4"
    county.click(f"#units-below tr[data-unit='{a.pk}'] a")
    county.fill("#return-reason", "一年级2班人数与花名册不符")
    _act(county, "return-form", "return-button")
    assert _state(a) == UnitState.RETURNED

    # The returned school sees the reason and resubmits (the pages share one browser's
    # cookies: each user signs in again).
    principal = _as(browser_context, live_server, province.users[f"principal_{province.a.code}"])
    principal.goto(f"{url}/reporting/units/{a.pk}/")
    assert "一年级2班人数与花名册不符" in principal.locator("#returned").inner_text()
    registrar = _as(browser_context, live_server, province.users[f"registrar_{province.a.code}"])
    registrar.goto(f"{url}/reporting/units/{a.pk}/")
    _act(registrar, "prepare-form", "prepare-button")
    principal = _as(browser_context, live_server, province.users[f"principal_{province.a.code}"])
    principal.goto(f"{url}/reporting/units/{a.pk}/")
    _act(principal, "confirm-form", "confirm-button")
    assert _state(a) == UnitState.CONFIRMED
    assert a.submissions.count() == 2

    county = _as(browser_context, live_server, province.users["futian"])
    county.goto(f"{url}/reporting/units/{futian.pk}/")
    _act(county, "confirm-form", "confirm-button")
    assert _state(futian) == UnitState.CONFIRMED

    _school_by_services(province, report_round, province.c)
    unit_confirm(actor=province.users["nanshan"], unit_id=province.unit(report_round, "440305").pk)
    city = _as(browser_context, live_server, province.users["shenzhen"])
    shenzhen = province.unit(report_round, "440300")
    city.goto(f"{url}/reporting/units/{shenzhen.pk}/")
    _act(city, "confirm-form", "confirm-button")
    assert _state(shenzhen) == UnitState.CONFIRMED

    _school_by_services(province, report_round, province.d)
    unit_confirm(actor=province.users["tianhe"], unit_id=province.unit(report_round, "440106").pk)
    unit_confirm(
        actor=province.users["guangzhou"], unit_id=province.unit(report_round, "440100").pk
    )
    top = province.unit(report_round, "440000")
    page = _as(browser_context, live_server, province.users["province"])
    page.goto(f"{url}/reporting/units/{top.pk}/")
    _act(page, "confirm-form", "confirm-button")
    assert _state(top) == UnitState.CONFIRMED
    assert page.locator("#own-total").inner_text().startswith("6")
