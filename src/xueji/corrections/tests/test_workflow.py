"""The state machine of key-data corrections: one function of the allowed transitions."""

import pytest

from xueji.access.policy import Action
from xueji.corrections.workflow import (
    TRANSITIONS,
    Event,
    InvalidTransition,
    State,
    events_from,
    transition,
)


def test_the_happy_path_and_who_takes_each_step():
    assert transition(None, Event.SUBMIT).target == State.PENDING_SCHOOL
    school = transition(State.PENDING_SCHOOL, Event.APPROVE)
    assert (school.target, school.action) == (
        State.PENDING_COUNTY,
        Action.CORRECTION_APPROVE_SCHOOL,
    )
    county = transition(State.PENDING_COUNTY, Event.APPROVE)
    assert (county.target, county.action) == (State.APPROVED, Action.CORRECTION_APPROVE_COUNTY)
    assert transition(None, Event.REPORT).action == Action.CLASS_VERIFY


@pytest.mark.parametrize("state", [None, *State])
@pytest.mark.parametrize("event", list(Event))
def test_every_transition_not_in_the_table_is_an_error(state, event):
    if (state, event) in TRANSITIONS:
        assert transition(state, event) == TRANSITIONS[(state, event)]
    else:
        with pytest.raises(InvalidTransition) as refused:
            transition(state, event)
        assert refused.value.status == 409


def test_final_states_allow_nothing():
    for state in (State.APPROVED, State.REJECTED, State.DISMISSED, State.WITHDRAWN):
        assert events_from(state) == []


def test_an_unknown_event_is_an_error():
    with pytest.raises(InvalidTransition):
        transition(State.PENDING_SCHOOL, "skip")
