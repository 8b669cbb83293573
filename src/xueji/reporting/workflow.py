"""The state machine of one unit's report in a round. Pure: the services say who fires an event.

A school:

    not_started --prepare--> prepared --confirm--> confirmed --return--> returned
    prepared --prepare--> prepared (the registry's figures taken again)
    returned --prepare--> prepared

A division (county, city, province) and the nation confirm the sum of their units' confirmed
reports once every one is confirmed:

    not_started --confirm--> confirmed --return--> returned --confirm--> confirmed

Who: a school's registrar or principal prepares, its principal confirms; a bureau approver
confirms its own division's report and returns a unit one level below while its own is not
confirmed. A confirmed report is locked: a correction is a revision (xueji.reporting.models.
Revision), approved by the level above.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.core.errors import Conflict
from xueji.core.workflow import next_state
from xueji.reporting.models import UnitLevel, UnitState


class Event(models.TextChoices):
    PREPARE = "prepare", _("Prepare")
    CONFIRM = "confirm", _("Confirm")
    RETURN = "return", _("Return")


SCHOOL_TRANSITIONS: dict[tuple[str | None, str], str] = {
    (UnitState.NOT_STARTED, Event.PREPARE): UnitState.PREPARED,
    (UnitState.PREPARED, Event.PREPARE): UnitState.PREPARED,
    (UnitState.RETURNED, Event.PREPARE): UnitState.PREPARED,
    (UnitState.PREPARED, Event.CONFIRM): UnitState.CONFIRMED,
    (UnitState.CONFIRMED, Event.RETURN): UnitState.RETURNED,
}

DIVISION_TRANSITIONS: dict[tuple[str | None, str], str] = {
    (UnitState.NOT_STARTED, Event.CONFIRM): UnitState.CONFIRMED,
    (UnitState.RETURNED, Event.CONFIRM): UnitState.CONFIRMED,
    (UnitState.CONFIRMED, Event.RETURN): UnitState.RETURNED,
}


class InvalidTransition(Conflict):
    """The event cannot happen in the report's current state (HTTP 409)."""


def transitions_of(level: str) -> dict[tuple[str | None, str], str]:
    return SCHOOL_TRANSITIONS if level == UnitLevel.SCHOOL else DIVISION_TRANSITIONS


def transition(level: str, state: str, event: str) -> str:
    """The state an event leads to from a state at a level; an unexpected one is refused."""
    return next_state(
        transitions_of(level),
        state,
        event,
        events=Event,
        states=UnitState,
        refusal=InvalidTransition,
        message=_("“%(event)s” is not possible while the report is “%(state)s”."),
    )
