"""Outside the promotion period a run is planned and started only when confirmed, and the
refusal names the period and says why (issue 20, item 11: a whole school's graduation could be
planned and started in December with no warning). A province's own period replaces the
nation's for its schools; the ministry sets the nation's and any province's, a province its
own."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.core.errors import FieldErrors, NotFound, ServiceError
from xueji.geo.models import Division
from xueji.testing.factories import member
from xueji.yearend.models import Notice, PromotionPeriod, RunKind, RunState, YearEndRun
from xueji.yearend.period_services import promotion_period_clear, promotion_period_set
from xueji.yearend.periods import DEFAULT_PROMOTION_PERIODS, periods_in_force
from xueji.yearend.services import run_plan, run_start

from ..conftest import FROM_YEAR

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def default_periods(settings):
    settings.XUEJI_YEAREND_PROMOTION_PERIODS = DEFAULT_PROMOTION_PERIODS


def on(monkeypatch, day: datetime.date) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: day)


def school_graduation(registry, **confirmation):
    return run_plan(
        actor=registry.approver,
        kind=RunKind.GRADUATE,
        scope=registry.primaries[0].code,
        from_year=FROM_YEAR,
        **confirmation,
    )


def test_a_graduation_planned_in_december_needs_a_confirmation_naming_the_period(
    registry, default_periods, monkeypatch
):
    on(monkeypatch, D(FROM_YEAR, 12, 6))
    with pytest.raises(ServiceError) as refused:
        school_graduation(registry)
    assert refused.value.code == "outside_promotion_period"
    assert refused.value.details["field"] == "confirm_outside_period"
    assert refused.value.details["periods"] == [{"where": "全国", "from": "06-01", "to": "09-30"}]
    message = str(refused.value.message)
    assert "2026-12-06" in message and "全国：6月1日至9月30日" in message
    assert "学年中途" in message  # says why
    assert not YearEndRun.objects.exists() and not Notice.objects.exists()

    run = school_graduation(registry, outside_period_confirmed=True)
    assert run.state == RunState.PLANNED
    entry = AuditEntry.objects.get(action="yearend.plan")
    assert entry.detail["outside_period_confirmed"] == [
        {"where": "全国", "from": "06-01", "to": "09-30"}
    ]

    with pytest.raises(ServiceError) as refused:
        run_start(actor=registry.approver, run_id=run.pk, enqueue=False)
    assert refused.value.code == "outside_promotion_period"
    run.refresh_from_db()
    assert run.state == RunState.PLANNED
    started = run_start(
        actor=registry.approver, run_id=run.pk, enqueue=False, outside_period_confirmed=True
    )
    assert started.state == RunState.RUNNING
    assert AuditEntry.objects.get(action="yearend.start").detail["outside_period_confirmed"]


def test_inside_the_period_no_confirmation_is_asked(registry, default_periods, monkeypatch):
    on(monkeypatch, D(FROM_YEAR + 1, 7, 15))
    run = school_graduation(registry)
    assert run_start(actor=registry.approver, run_id=run.pk, enqueue=False).state == (
        RunState.RUNNING
    )
    assert "outside_period_confirmed" not in AuditEntry.objects.get(action="yearend.start").detail


def test_a_provinces_own_period_replaces_the_nations(registry, default_periods, monkeypatch):
    guangdong = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440000"))
    promotion_period_set(actor=guangdong, level="44", starts="07-01", ends="07-31", note="省定")
    on(monkeypatch, D(FROM_YEAR + 1, 8, 10))  # inside the nation's, after 广东's
    with pytest.raises(ServiceError) as refused:
        school_graduation(registry)
    assert "广东省：7月1日至7月31日" in str(refused.value.message)
    on(monkeypatch, D(FROM_YEAR + 1, 7, 10))
    assert school_graduation(registry).state == RunState.PLANNED
    promotion_period_clear(actor=guangdong, level="44")
    assert "44" not in periods_in_force()


def test_a_national_run_must_lie_in_every_provinces_own_period(
    registry, default_periods, monkeypatch
):
    beijing = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="110000"))
    promotion_period_set(actor=beijing, level="11", starts="06-15", ends="07-20")
    on(monkeypatch, D(FROM_YEAR + 1, 8, 10))
    nation = member(Role.BUREAU_APPROVER)
    with pytest.raises(ServiceError) as refused:
        run_plan(actor=nation, kind=RunKind.PROMOTE, scope="nation", from_year=FROM_YEAR)
    assert [p["where"] for p in refused.value.details["periods"]] == ["北京市"]


def test_a_period_over_the_new_year_and_the_settings(registry, settings, monkeypatch):
    settings.XUEJI_YEAREND_PROMOTION_PERIODS = {"nation": {"from": "12-01", "to": "01-31"}}
    on(monkeypatch, D(FROM_YEAR, 12, 6))
    assert school_graduation(registry).state == RunState.PLANNED
    settings.XUEJI_YEAREND_PROMOTION_PERIODS = {"nation": {"from": "12-01", "to": "13-01"}}
    with pytest.raises(ValueError, match=r"XUEJI_YEAREND_PROMOTION_PERIODS\['nation'\]"):
        periods_in_force()


def test_who_sets_which_period(registry, default_periods):
    nation = member(Role.BUREAU_APPROVER)
    guangdong = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440000"))
    county = registry.approver
    promotion_period_set(actor=nation, level="nation", starts="07-01", ends="09-15")
    promotion_period_set(actor=nation, level="11", starts="07-01", ends="08-31")
    with pytest.raises(ServiceError) as refused:
        promotion_period_set(actor=guangdong, level="nation", starts="07-01", ends="09-15")
    assert refused.value.status == 403
    with pytest.raises(NotFound):
        promotion_period_set(actor=guangdong, level="11", starts="07-01", ends="09-15")
    with pytest.raises(NotFound):
        promotion_period_clear(actor=guangdong, level="11")
    with pytest.raises(ServiceError) as refused:
        promotion_period_set(actor=county, level="44", starts="07-01", ends="09-15")
    assert refused.value.status == 403
    with pytest.raises(ServiceError) as refused:
        promotion_period_set(actor=registry.registrars[0], level="44", starts="07", ends="09")
    assert refused.value.status == 403
    assert sorted(PromotionPeriod.objects.values_list("scope", flat=True)) == ["11", "nation"]


def test_every_bad_field_is_named_and_nothing_written(registry, default_periods):
    guangdong = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440000"))
    with pytest.raises(FieldErrors) as refused:
        promotion_period_set(actor=guangdong, level="44", starts="02-30", ends="7-1")
    assert set(refused.value.errors) == {"starts", "ends"}
    with pytest.raises(FieldErrors) as refused:
        promotion_period_set(actor=guangdong, level="44", starts="07-01", ends="07-01")
    assert set(refused.value.errors) == {"ends"}
    assert not PromotionPeriod.objects.exists()
    row = promotion_period_set(actor=guangdong, level="44", starts="07-01", ends="08-31")
    promotion_period_set(actor=guangdong, level="44", starts="07-05", ends="08-31")
    entry = AuditEntry.objects.filter(action="yearend.period_set").order_by("pk").last()
    assert entry.before["from"] == "07-01" and entry.after["from"] == "07-05"
    assert PromotionPeriod.objects.get().pk == row.pk
