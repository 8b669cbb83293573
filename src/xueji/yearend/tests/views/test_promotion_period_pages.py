"""Outside the promotion period the pages warn, name the period and ask for a confirmation
before a dry run or a run (issue 20, item 11); the ministry and the provinces set their periods
on a page (and who may not, does not)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.testing.factories import member
from xueji.yearend.models import PromotionPeriod, RunKind, RunState, YearEndRun
from xueji.yearend.periods import DEFAULT_PROMOTION_PERIODS
from xueji.yearend.services import run_plan

from ..conftest import FROM_YEAR, Registry

pytestmark = pytest.mark.django_db
DECEMBER = datetime.date(FROM_YEAR, 12, 6)


@pytest.fixture
def december(settings, monkeypatch):
    settings.XUEJI_YEAREND_PROMOTION_PERIODS = DEFAULT_PROMOTION_PERIODS
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: DECEMBER)


def chinese(user) -> Client:
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(user)
    return client


def test_the_index_warns_and_the_dry_run_needs_the_box(registry: Registry, december) -> None:
    client = chinese(registry.approver)
    page = client.get(reverse("yearend:index")).content.decode()
    assert "今天（2026-12-06）不在升级毕业时间内（全国：6月1日至9月30日）" in page
    assert 'name="confirm_outside_period"' in page
    plan = {"kind": "graduate", "scope": registry.primaries[0].code, "from_year": FROM_YEAR}
    refused = client.post(reverse("yearend:plan"), plan)
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "升级和毕业在两个学年之间进行" in body and "id_confirm_outside_period_error" in body
    assert not YearEndRun.objects.exists()
    planned = client.post(reverse("yearend:plan"), {**plan, "confirm_outside_period": "on"})
    run = YearEndRun.objects.get()
    assert planned.url == reverse("yearend:detail", args=[run.pk])


def test_the_run_page_asks_again_before_it_starts(registry: Registry, december) -> None:
    run = run_plan(
        actor=registry.approver,
        kind=RunKind.GRADUATE,
        scope=registry.primaries[0].code,
        from_year=FROM_YEAR,
        outside_period_confirmed=True,
    )
    client = chinese(registry.approver)
    url = reverse("yearend:detail", args=[run.pk])
    page = client.get(url).content.decode()
    assert 'id="confirm-outside-period"' in page and "全国：6月1日至9月30日" in page
    refused = client.post(reverse("yearend:start", args=[run.pk]), follow=True)
    assert "不在升级毕业时间内" in refused.content.decode()
    run.refresh_from_db()
    assert run.state == RunState.PLANNED
    client.post(reverse("yearend:start", args=[run.pk]), {"confirm_outside_period": "on"})
    run.refresh_from_db()
    assert run.state == RunState.RUNNING


def test_inside_the_period_nothing_is_asked(registry: Registry, settings) -> None:
    page = chinese(registry.approver).get(reverse("yearend:index")).content.decode()
    assert "在升级毕业时间内" in page and 'name="confirm_outside_period"' not in page


def test_the_ministry_and_a_province_set_their_periods(registry: Registry, december) -> None:
    nation = chinese(member(Role.BUREAU_APPROVER))
    page = nation.get(reverse("yearend:periods")).content.decode()
    assert "全国" in page and "6月1日至9月30日" in page and 'value="44"' in page
    nation.post(
        reverse("yearend:period_set"), {"level": "nation", "starts": "07-01", "ends": "09-15"}
    )
    guangdong = chinese(member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440000")))
    page = guangdong.get(reverse("yearend:periods")).content.decode()
    assert 'value="nation"' not in page and 'value="44"' in page
    refused = guangdong.post(
        reverse("yearend:period_set"), {"level": "44", "starts": "7-1", "ends": "08-31"}
    )
    assert refused.status_code == 400 and "例如 07-01" in refused.content.decode()
    guangdong.post(
        reverse("yearend:period_set"), {"level": "44", "starts": "07-01", "ends": "08-31"}
    )
    assert dict(PromotionPeriod.objects.values_list("scope", "end_month")) == {
        "nation": 9,
        "44": 8,
    }
    # Its schools' county sees 广东's period, and may not set one.
    county = chinese(registry.approver)
    page = county.get(reverse("yearend:periods")).content.decode()
    assert "7月1日至8月31日" in page and 'action="/yearend/periods/set/"' not in page
    forbidden = county.post(
        reverse("yearend:period_set"), {"level": "44", "starts": "01-01", "ends": "12-31"}
    )
    assert forbidden.status_code == 403
    # A province may not set the nation's, nor clear it.
    guangdong.post(
        reverse("yearend:period_set"), {"level": "nation", "starts": "01-01", "ends": "12-31"}
    )
    guangdong.post(reverse("yearend:period_clear"), {"level": "nation"})
    assert PromotionPeriod.objects.get(scope="nation").start_month == 7
    guangdong.post(reverse("yearend:period_clear"), {"level": "44"})
    assert not PromotionPeriod.objects.filter(scope="44").exists()


def test_the_command_line_asks_for_the_flag_outside_the_period(
    registry: Registry, december
) -> None:
    arguments = ["yearend", "graduate", "--scope", registry.primaries[0].code]
    arguments += ["--academic-year", str(FROM_YEAR), "--yes"]
    with pytest.raises(CommandError, match="6月1日至9月30日"):
        call_command(*arguments, stdout=io.StringIO())
    assert not YearEndRun.objects.exists()
    call_command(*arguments, "--confirm-outside-period", stdout=io.StringIO())
    assert YearEndRun.objects.get().state == RunState.DONE
