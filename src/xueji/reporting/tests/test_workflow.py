"""The state machine of a unit's report: its tables, and the races it must win on PostgreSQL
(the county returning a school's report while the county's own is being confirmed)."""

from __future__ import annotations

import pytest

from xueji.reporting.models import UnitLevel, UnitState
from xueji.reporting.services import unit_confirm, unit_prepare, unit_return
from xueji.reporting.workflow import (
    DIVISION_TRANSITIONS,
    SCHOOL_TRANSITIONS,
    Event,
    InvalidTransition,
    transition,
)
from xueji.testing.concurrency import race

from .conftest import Province


def test_a_confirmed_report_moves_only_by_a_return() -> None:
    for table in (SCHOOL_TRANSITIONS, DIVISION_TRANSITIONS):
        leaving = {event for (state, event) in table if state == UnitState.CONFIRMED}
        assert leaving == {Event.RETURN}


def test_a_school_is_prepared_before_it_is_confirmed() -> None:
    with pytest.raises(InvalidTransition):
        transition(UnitLevel.SCHOOL, UnitState.NOT_STARTED, Event.CONFIRM)
    with pytest.raises(InvalidTransition):
        transition(UnitLevel.SCHOOL, UnitState.RETURNED, Event.CONFIRM)
    assert transition(UnitLevel.COUNTY, UnitState.NOT_STARTED, Event.CONFIRM) == "confirmed"
    with pytest.raises(InvalidTransition):
        transition(UnitLevel.COUNTY, UnitState.NOT_STARTED, Event.PREPARE)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_return_and_the_confirmation_above_do_not_both_win(province: Province) -> None:
    report_round = province.open_round()
    for school in (province.a, province.b):
        unit = province.unit(report_round, school)
        unit_prepare(actor=province.users[f"registrar_{school.code}"], unit_id=unit.pk)
        unit_confirm(actor=province.users[f"principal_{school.code}"], unit_id=unit.pk)
    a = province.unit(report_round, province.a)
    futian = province.unit(report_round, "440304")
    county = province.users["futian"]
    outcomes = race(
        lambda: unit_return(actor=county, unit_id=a.pk, reason="人数不符"),
        lambda: unit_confirm(actor=county, unit_id=futian.pk),
    )
    a.refresh_from_db()
    futian.refresh_from_db()
    # Either the return came first (the county's confirmation then finds a unit not confirmed)
    # or the confirmation did (the return then finds the county confirmed): never both.
    assert outcomes in (["done", "units_not_confirmed"], ["above_confirmed", "done"])
    assert (a.state == UnitState.RETURNED) != (futian.state == UnitState.CONFIRMED)
