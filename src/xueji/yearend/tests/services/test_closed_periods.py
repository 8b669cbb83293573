"""Promotion and graduation closed by the ministry or the province (a closed period of the
operation "yearend", on the changes' page of closed periods, or in the settings): the dry run
is made, the run does not start until the period is over or lifted."""

import datetime

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.changes.services import closed_period_add, closed_period_lift
from xueji.core.errors import Conflict
from xueji.geo.models import Division
from xueji.testing.factories import member
from xueji.yearend.models import RunKind, RunState
from xueji.yearend.services import run_plan, run_start

from ..conftest import FROM_YEAR

pytestmark = pytest.mark.django_db
D = datetime.date
DAY = D(2027, 8, 10)


@pytest.fixture
def on_day(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: DAY)


def test_a_run_does_not_start_while_promotion_is_closed(registry, on_day):
    guangdong = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440000"))
    period = closed_period_add(
        actor=guangdong,
        operation="yearend",
        starts_on=D(2027, 8, 1),
        ends_on=D(2027, 8, 20),
        on=D(2027, 7, 1),
    )
    run = run_plan(
        actor=registry.approver, kind=RunKind.PROMOTE, scope="440304", from_year=FROM_YEAR
    )
    assert run.state == RunState.PLANNED and run.students_total > 0
    with pytest.raises(Conflict) as refused:
        run_start(actor=registry.approver, run_id=run.pk, enqueue=False)
    assert refused.value.code == "yearend_closed"
    assert "2027-08-21" in str(refused.value.message)
    run.refresh_from_db()
    assert run.state == RunState.PLANNED
    closed_period_lift(actor=guangdong, period_id=period.pk, reason="按时升级", on=DAY)
    assert run_start(actor=registry.approver, run_id=run.pk, enqueue=False).state == (
        RunState.RUNNING
    )


def test_a_national_period_of_the_settings_closes_every_run(registry, on_day, settings):
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {
        "nation": [{"kind": "yearend", "from": "08-01", "to": "08-15"}]
    }
    run = run_plan(
        actor=registry.approver, kind=RunKind.PROMOTE, scope="440304", from_year=FROM_YEAR
    )
    with pytest.raises(Conflict) as refused:
        run_start(actor=registry.approver, run_id=run.pk, enqueue=False)
    assert "2027-08-16" in str(refused.value.message)
