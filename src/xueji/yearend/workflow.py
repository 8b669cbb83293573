"""The year-end run's state machine. Pure: the services say who may fire an event.

(new) --plan--> planned --start--> running --finish--> done --reverse--> reversed
planned --plan--> planned (the dry run again)      running --fail--> failed --start--> running
failed --reverse--> reversed (what the chunks done so far moved is put back)
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.core.errors import Conflict
from xueji.core.workflow import next_state
from xueji.yearend.models import RunState


class Event(models.TextChoices):
    PLAN = "plan", _("Dry run")
    START = "start", _("Start")
    FINISH = "finish", _("Finish")
    FAIL = "fail", _("Fail")
    REVERSE = "reverse", _("Reverse")


TRANSITIONS: dict[tuple[str | None, str], str] = {
    (None, Event.PLAN): RunState.PLANNED,
    (RunState.PLANNED, Event.PLAN): RunState.PLANNED,
    (RunState.PLANNED, Event.START): RunState.RUNNING,
    (RunState.FAILED, Event.START): RunState.RUNNING,
    (RunState.RUNNING, Event.FINISH): RunState.DONE,
    (RunState.RUNNING, Event.FAIL): RunState.FAILED,
    (RunState.DONE, Event.REVERSE): RunState.REVERSED,
    (RunState.FAILED, Event.REVERSE): RunState.REVERSED,
}


class InvalidTransition(Conflict):
    """The event cannot happen in the run's current state (HTTP 409)."""


def transition(state: str | None, event: str) -> str:
    """The state an event leads to from a state; an unexpected transition is an error."""
    return next_state(
        TRANSITIONS,
        state,
        event,
        events=Event,
        states=RunState,
        refusal=InvalidTransition,
        message=_("“%(event)s” is not possible while the run is “%(state)s”."),
    )
