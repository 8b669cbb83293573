"""The key-data correction (关键数据变更) state machine: states, events, and one function of the
allowed transitions. Pure: who may fire a transition is the permission matrix's business (each
transition names the action it needs), what it does is the service's.

    (new) --report--> reported --submit--> pending_school --approve--> pending_county
    (new) --submit--------------------------^    reported --dismiss--> dismissed
    pending_school --withdraw--> withdrawn;  pending_school --reject--> rejected
    pending_county --approve--> approved;    pending_county --reject--> rejected
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.core.errors import Conflict
from xueji.core.workflow import next_state


class State(models.TextChoices):
    REPORTED = "reported", _("Reported by the class teacher")
    PENDING_SCHOOL = "pending_school", _("Waiting for the school's approval")
    PENDING_COUNTY = "pending_county", _("Waiting for the county's approval")
    APPROVED = "approved", _("Approved and applied")
    REJECTED = "rejected", _("Rejected")
    DISMISSED = "dismissed", _("Dismissed: no error")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Event(models.TextChoices):
    REPORT = "report", _("Report an error")
    SUBMIT = "submit", _("Submit with evidence")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    DISMISS = "dismiss", _("Dismiss")
    WITHDRAW = "withdraw", _("Withdraw")


# States in which a request is still under way: at most one per student (a database index).
OPEN_STATES = (State.REPORTED, State.PENDING_SCHOOL, State.PENDING_COUNTY)
FINAL_STATES = (State.APPROVED, State.REJECTED, State.DISMISSED, State.WITHDRAWN)


@dataclass(frozen=True)
class Step:
    target: State
    action: str  # the permission (xueji.access.policy.Action) the actor needs


TRANSITIONS: dict[tuple[State | None, Event], Step] = {
    (None, Event.REPORT): Step(State.REPORTED, Action.CLASS_VERIFY),
    (None, Event.SUBMIT): Step(State.PENDING_SCHOOL, Action.CORRECTION_REQUEST),
    (State.REPORTED, Event.SUBMIT): Step(State.PENDING_SCHOOL, Action.CORRECTION_REQUEST),
    (State.REPORTED, Event.DISMISS): Step(State.DISMISSED, Action.CORRECTION_REQUEST),
    (State.PENDING_SCHOOL, Event.WITHDRAW): Step(State.WITHDRAWN, Action.CORRECTION_REQUEST),
    (State.PENDING_SCHOOL, Event.APPROVE): Step(
        State.PENDING_COUNTY, Action.CORRECTION_APPROVE_SCHOOL
    ),
    (State.PENDING_SCHOOL, Event.REJECT): Step(State.REJECTED, Action.CORRECTION_APPROVE_SCHOOL),
    (State.PENDING_COUNTY, Event.APPROVE): Step(State.APPROVED, Action.CORRECTION_APPROVE_COUNTY),
    (State.PENDING_COUNTY, Event.REJECT): Step(State.REJECTED, Action.CORRECTION_APPROVE_COUNTY),
}


class InvalidTransition(Conflict):
    """The event cannot happen in the request's current state (HTTP 409)."""


# The state each transition leads to: what core.workflow.next_state moves along.
_TARGETS: dict[tuple[str | None, str], str] = {
    key: step.target for key, step in TRANSITIONS.items()
}


def transition(state: str | None, event: str) -> Step:
    """The step an event takes from a state; an unexpected transition is an error (naming the
    state and the event in its details)."""
    try:
        next_state(
            _TARGETS,
            state,
            event,
            events=Event,
            states=State,
            refusal=InvalidTransition,
            message=_("“%(event)s” is not possible while the request is “%(state)s”."),
            no_state=_("not yet created"),
        )
    except InvalidTransition as refused:
        refused.details.update(state=state or "", event=event)
        raise
    return TRANSITIONS[(State(state) if state else None, Event(event))]


def events_from(state: str | None) -> list[Event]:
    """The events that can happen in a state, in the order of Event."""
    current = State(state) if state else None
    return [event for (source, event) in TRANSITIONS if source == current]
