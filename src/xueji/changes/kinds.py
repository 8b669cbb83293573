"""What each kind of change of status (学籍异动) is, in one place (DOMAIN §5): the record states
it may be filed from, the state and the record event it leaves, what it does to the placement,
who may start it, what must be attached, and its approval chain. Pure.

The services (which states, which effect), the policy (the guardian rule, the documents), the
workflow (the kinds the year end applies, the chain) and the API's schema read these; a new
kind is a ChangeKind value and a line here (and the students app's state and event, if new).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xueji.changes.models import ChangeKind
from xueji.students.models import EventKind, PlacementReason, RecordState


class Effect(StrEnum):
    """What a completed change does to the record's placement."""

    MOVES = "moves"  # the placement closes and one opens elsewhere (转学, 转班)
    CLOSES = "closes"  # the placement closes: the child leaves the roll
    STAYS = "stays"  # the placement stays, the record's state changes (休学, 复学)
    DEFERRED = "deferred"  # approved now, applied by the year-end promotion (留级, 跳级)


class Chain(StrEnum):
    """Who approves, after the filing school (xueji.changes.workflow makes the parties)."""

    SCHOOL = "school"  # the school alone
    SCHOOL_COUNTY = "school_county"  # the school, then its county bureau
    # Both sides, the receiving school first, as far up as the two schools are apart (same
    # county, other county, other province).
    TRANSFER = "transfer"


class GuardianRequest(StrEnum):
    """When the guardian's written request must be attached."""

    ALWAYS = "always"  # the parent applies (at the receiving school)
    IF_GUARDIANS = "if_guardians"  # when the change is the guardian's request
    NEVER = "never"  # the school records it


@dataclass(frozen=True)
class KindSpec:
    kind: ChangeKind
    # The record states from which a change of this kind may be filed.
    from_states: tuple[RecordState, ...]
    # The state a completed change leaves the record in; None: as it was.
    result: RecordState | None
    # The record event appended when the change takes effect.
    event: EventKind
    effect: Effect
    chain: Chain
    guardian_request: GuardianRequest
    # In compulsory education (grades 1-9) a school may not start it on its own.
    guardian_only_in_compulsory: bool = False
    # In compulsory education (grades 1-9) it is no change a school files at all: 辍学 there is
    # the outcome of a dropout-control case the county follows (控辍保学), not a request.
    filed_in_compulsory: bool = True
    # The fields of the filing form that belong to this kind alone (the others are common:
    # reason, whose decision, the guardian's request, evidence).
    own_fields: tuple[str, ...] = ()
    # At least one document backs the request.
    evidence_required: bool = True
    # The reason of the placement a move opens (MOVES only).
    placement_reason: PlacementReason | None = None
    # The state the record shows while the request is under way (转学中); back to the
    # from-state if it stops.
    pending_state: RecordState | None = None
    # The grades the year-end promotion moves the child (DEFERRED only): 0 repeats, 2 skips.
    promotion_grades: int | None = None


_ENROLLED = (RecordState.ENROLLED,)
_ON_ROLL = (RecordState.ENROLLED, RecordState.SUSPENDED)

SPECS: dict[ChangeKind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            ChangeKind.TRANSFER,
            from_states=_ENROLLED,
            result=RecordState.ENROLLED,
            event=EventKind.TRANSFERRED,
            effect=Effect.MOVES,
            chain=Chain.TRANSFER,
            guardian_request=GuardianRequest.ALWAYS,
            placement_reason=PlacementReason.TRANSFER,
            pending_state=RecordState.TRANSFERRING,
        ),
        KindSpec(
            ChangeKind.SUSPEND,
            from_states=_ENROLLED,
            result=RecordState.SUSPENDED,
            event=EventKind.SUSPENDED,
            effect=Effect.STAYS,
            chain=Chain.SCHOOL_COUNTY,
            guardian_request=GuardianRequest.IF_GUARDIANS,
            own_fields=("suspended_from", "suspended_until"),
        ),
        KindSpec(
            ChangeKind.RESUME,
            from_states=(RecordState.SUSPENDED,),
            result=RecordState.ENROLLED,
            event=EventKind.RESUMED,
            effect=Effect.STAYS,
            chain=Chain.SCHOOL_COUNTY,
            guardian_request=GuardianRequest.IF_GUARDIANS,
        ),
        KindSpec(
            ChangeKind.WITHDRAW,  # 退学, an expulsion included
            from_states=_ON_ROLL,
            result=RecordState.WITHDRAWN,
            event=EventKind.WITHDRAWN,
            effect=Effect.CLOSES,
            chain=Chain.SCHOOL_COUNTY,
            guardian_request=GuardianRequest.IF_GUARDIANS,
            guardian_only_in_compulsory=True,
        ),
        KindSpec(
            ChangeKind.DROPOUT,
            from_states=_ON_ROLL,
            result=RecordState.DROPPED_OUT,
            event=EventKind.DROPPED_OUT,
            effect=Effect.CLOSES,
            chain=Chain.SCHOOL_COUNTY,
            guardian_request=GuardianRequest.NEVER,
            filed_in_compulsory=False,
        ),
        KindSpec(
            ChangeKind.REPEAT,
            from_states=_ENROLLED,
            result=None,
            event=EventKind.REPEATED,
            effect=Effect.DEFERRED,
            chain=Chain.SCHOOL_COUNTY,
            guardian_request=GuardianRequest.IF_GUARDIANS,
            guardian_only_in_compulsory=True,
            promotion_grades=0,
        ),
        KindSpec(
            ChangeKind.SKIP,
            from_states=_ENROLLED,
            result=None,
            event=EventKind.SKIPPED,
            effect=Effect.DEFERRED,
            chain=Chain.SCHOOL_COUNTY,
            guardian_request=GuardianRequest.IF_GUARDIANS,
            promotion_grades=2,
        ),
        KindSpec(
            ChangeKind.ABROAD,
            from_states=_ON_ROLL,
            result=RecordState.ABROAD,
            event=EventKind.ABROAD,
            effect=Effect.CLOSES,
            chain=Chain.SCHOOL_COUNTY,
            guardian_request=GuardianRequest.IF_GUARDIANS,
        ),
        KindSpec(
            ChangeKind.DEATH,
            from_states=_ON_ROLL,
            result=RecordState.DECEASED,
            event=EventKind.DECEASED,
            effect=Effect.CLOSES,
            chain=Chain.SCHOOL_COUNTY,
            guardian_request=GuardianRequest.NEVER,
        ),
        KindSpec(
            ChangeKind.CLASS_CHANGE,
            from_states=_ENROLLED,
            result=None,
            event=EventKind.CLASS_CHANGED,
            effect=Effect.MOVES,
            chain=Chain.SCHOOL,
            guardian_request=GuardianRequest.NEVER,
            evidence_required=False,
            placement_reason=PlacementReason.CLASS_CHANGE,
            own_fields=("to_class",),
        ),
    )
}


def spec_of(kind: str) -> KindSpec:
    return SPECS[ChangeKind(kind)]


def kinds_where(**matching: object) -> tuple[ChangeKind, ...]:
    """The kinds whose spec has these values, in ChangeKind's order."""
    return tuple(
        kind
        for kind in ChangeKind
        if all(getattr(SPECS[kind], name) == value for name, value in matching.items())
    )


# Filed by the receiving school (a transfer); every other kind by the student's own school.
FILED_BY_RECEIVER = kinds_where(chain=Chain.TRANSFER)
FILED_BY_OWN_SCHOOL = tuple(kind for kind in ChangeKind if kind not in FILED_BY_RECEIVER)
# Kinds whose effect waits for the year-end promotion (the contract with the yearend app).
DEFERRED_KINDS = kinds_where(effect=Effect.DEFERRED)
