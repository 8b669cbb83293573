"""The state machine of changes of status (学籍异动), and the approval chain of each kind. Pure:
who may take a step is xueji.changes.policy, what a step does is xueji.changes.services.

    (new) --file--> pending            (new) --hold--> held --release--> pending
    pending --approve--> pending        (a step approved, the next party's turn)
    pending --final_approve--> completed, or approved for 留级/跳级 (applied at the promotion)
    approved --apply--> completed       (by the year-end promotion)
    completed --reopen--> approved      (留级/跳级 only: the promotion that applied it reversed)
    pending --reject--> rejected        pending, held --withdraw--> withdrawn

Transfer chains (DOMAIN §5), in order; the receiving school's step is the filing itself:
- same county: receiving school → sending school → county bureau;
- other county: receiving school → receiving county → sending school → sending county;
- other province: receiving school → receiving county → receiving province → sending school →
  sending county → sending province.
Other kinds: the school files (its step), the county bureau approves; 转班 needs only the school.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.changes.kinds import DEFERRED_KINDS, Chain, spec_of
from xueji.changes.models import ChangeState, PartyLevel, Side
from xueji.core.errors import Conflict
from xueji.core.workflow import next_state


class Event(models.TextChoices):
    FILE = "file", _("File")
    HOLD = "hold", _("File into the queue of a closed period")
    RELEASE = "release", _("Resume after the closed period")
    APPROVE = "approve", _("Approve")
    FINAL_APPROVE = "final_approve", _("Give the final approval")
    REJECT = "reject", _("Reject")
    WITHDRAW = "withdraw", _("Withdraw")
    APPLY = "apply", _("Apply at the promotion")
    REOPEN = "reopen", _("Reopened by a reversed promotion")


TRANSITIONS: dict[tuple[str | None, str], str] = {
    (None, Event.FILE): ChangeState.PENDING,
    (None, Event.HOLD): ChangeState.HELD,
    (ChangeState.HELD, Event.RELEASE): ChangeState.PENDING,
    (ChangeState.HELD, Event.WITHDRAW): ChangeState.WITHDRAWN,
    (ChangeState.PENDING, Event.APPROVE): ChangeState.PENDING,
    (ChangeState.PENDING, Event.FINAL_APPROVE): ChangeState.COMPLETED,
    (ChangeState.PENDING, Event.REJECT): ChangeState.REJECTED,
    (ChangeState.PENDING, Event.WITHDRAW): ChangeState.WITHDRAWN,
    (ChangeState.APPROVED, Event.APPLY): ChangeState.COMPLETED,
}
# 留级 and 跳级 (xueji.changes.kinds.DEFERRED_KINDS) differ: their final approval leaves them
# approved, for the year-end promotion to apply; and only a change the promotion applied can be
# taken back with it (completed is final otherwise).
DEFERRED_TRANSITIONS: dict[tuple[str | None, str], str] = {
    (ChangeState.PENDING, Event.FINAL_APPROVE): ChangeState.APPROVED,
    (ChangeState.COMPLETED, Event.REOPEN): ChangeState.APPROVED,
}
_DEFERRED_TABLE = {**TRANSITIONS, **DEFERRED_TRANSITIONS}


class InvalidTransition(Conflict):
    """The event cannot happen in the request's current state (HTTP 409)."""


def _table(kind: str | None) -> dict[tuple[str | None, str], str]:
    return _DEFERRED_TABLE if kind in DEFERRED_KINDS else TRANSITIONS


def transition(state: str | None, event: str, kind: str | None = None) -> ChangeState:
    """The state an event leads to from a state, for a request of `kind`; an unexpected
    transition is an error (naming the state and the event in its details). The final approval
    of a 留级 or 跳级 leads to APPROVED: the promotion applies it (and a reversed promotion
    reopens it)."""
    try:
        target = next_state(
            _table(kind),
            state,
            event,
            events=Event,
            states=ChangeState,
            refusal=InvalidTransition,
            message=_("“%(event)s” is not possible while the request is “%(state)s”."),
            no_state=_("not yet filed"),
        )
    except InvalidTransition as refused:
        refused.details.update(state=state or "", event=event)
        raise
    return ChangeState(target)


def events_from(state: str | None, kind: str | None = None) -> list[Event]:
    """The events that can happen in a state (to a request of `kind`), in the table's order."""
    return [Event(event) for (source, event) in _table(kind) if source == (state or None)]


@dataclass(frozen=True)
class Party:
    """One step of a chain: a school (by id) or a bureau (by division code)."""

    level: str
    side: str
    school_id: int | None = None
    division_code: str | None = None


@dataclass(frozen=True)
class Place:
    """Where a school is: what the chain is computed from."""

    school_id: int
    county_code: str
    province_code: str


def transfer_chain(sender: Place, receiver: Place) -> list[Party]:
    """The parties of a transfer in order (DOMAIN §5); the first is the receiving school."""
    receiving_school = Party(PartyLevel.SCHOOL, Side.RECEIVER, school_id=receiver.school_id)
    sending_school = Party(PartyLevel.SCHOOL, Side.SENDER, school_id=sender.school_id)
    if sender.county_code == receiver.county_code:
        return [
            receiving_school,
            sending_school,
            Party(PartyLevel.COUNTY, Side.SENDER, division_code=sender.county_code),
        ]
    receiving_county = Party(PartyLevel.COUNTY, Side.RECEIVER, division_code=receiver.county_code)
    sending_county = Party(PartyLevel.COUNTY, Side.SENDER, division_code=sender.county_code)
    if sender.province_code == receiver.province_code:
        return [receiving_school, receiving_county, sending_school, sending_county]
    return [
        receiving_school,
        receiving_county,
        Party(PartyLevel.PROVINCE, Side.RECEIVER, division_code=receiver.province_code),
        sending_school,
        sending_county,
        Party(PartyLevel.PROVINCE, Side.SENDER, division_code=sender.province_code),
    ]


def change_chain(kind: str, school: Place) -> list[Party]:
    """The parties of a change other than a transfer: the school (the filing), then its county
    bureau; a class change needs only the school."""
    own_school = Party(PartyLevel.SCHOOL, Side.OWN, school_id=school.school_id)
    if spec_of(kind).chain == Chain.SCHOOL:
        return [own_school]
    return [own_school, Party(PartyLevel.COUNTY, Side.OWN, division_code=school.county_code)]


def chain_for(kind: str, sender: Place, receiver: Place | None = None) -> list[Party]:
    """The approval chain of a request of this kind (xueji.changes.kinds)."""
    if spec_of(kind).chain == Chain.TRANSFER:
        if receiver is None:
            raise ValueError("a transfer needs a receiving school")
        return transfer_chain(sender, receiver)
    return change_chain(kind, sender)


def level_above(
    level: str, *, school_county: str | None = None, division_parent: str | None = None
) -> tuple[str, str]:
    """Where an overdue step is reported: a school to its county, a county to its city (the
    division's parent), a province to the ministry. Returns (level, division code; "" for the
    ministry)."""
    if level == PartyLevel.SCHOOL:
        return "county", school_county or ""
    if level == PartyLevel.COUNTY and division_parent:
        # A city without counties (东莞) decides as a county; the province is above it.
        if division_parent.endswith("0000"):
            return "province", division_parent
        return "city", division_parent
    return "nation", ""
