"""Moving a request along its approval chain: the chain's steps made on filing, the next
party's turn after a step is approved (10 working days each), and the final approval with its
effect when none is left."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from xueji.access.scope import Scope
from xueji.changes.models import ApprovalStep, ChangeRequest, ChangeState, StepState
from xueji.changes.services.common import log_step, place_of
from xueji.changes.services.effects import apply_effect
from xueji.changes.windows import DEADLINE_WORKING_DAYS, add_working_days
from xueji.changes.workflow import Event, chain_for, transition
from xueji.schools.models import School


def create_steps(
    change: ChangeRequest, *, actor: Any, sender: School, receiver: School | None
) -> list[ApprovalStep]:
    parties = chain_for(change.kind, place_of(sender), place_of(receiver) if receiver else None)
    now = timezone.now()
    steps = [
        ApprovalStep(
            request=change,
            ordinal=index,
            level=party.level,
            side=party.side,
            school_id=party.school_id,
            division_id=party.division_code,
            # The first step is the applicant school's: filing it is its decision.
            state=StepState.APPROVED if index == 1 else StepState.WAITING,
            current_since=change.filed_on if index == 1 else None,
            decided_by=actor if index == 1 else None,
            decided_at=now if index == 1 else None,
        )
        for index, party in enumerate(parties, start=1)
    ]
    ApprovalStep.objects.bulk_create(steps)
    return steps


def make_current(step: ApprovalStep, on: datetime.date) -> None:
    step.state = StepState.PENDING
    step.current_since = on
    step.due_on = add_working_days(on, DEADLINE_WORKING_DAYS)
    step.save(update_fields=["state", "current_since", "due_on"])


def advance(
    change: ChangeRequest,
    steps: Sequence[ApprovalStep],
    *,
    actor: Any,
    scope: Scope | None,
    on: datetime.date,
    decided: ApprovalStep | None,
) -> None:
    """After a step is approved (or the filing / the release): the next party's turn, or the
    final approval and the effect when none is left."""
    waiting = [step for step in steps if step.state == StepState.WAITING]
    from_state = change.state
    if waiting:
        make_current(waiting[0], on)
        if decided is not None:
            change.state = transition(change.state, Event.APPROVE, change.kind)
            change.save(update_fields=["state", "updated_at"])
            log_step(
                change,
                event=Event.APPROVE,
                from_state=from_state,
                actor=actor,
                scope=scope,
                note=decided.reason,
                ordinal=decided.ordinal,
                detail={"next": waiting[0].ordinal, "due_on": waiting[0].due_on.isoformat()},  # type: ignore[union-attr]
            )
        return
    change.state = transition(change.state, Event.FINAL_APPROVE, change.kind)
    if change.state == ChangeState.COMPLETED:
        apply_effect(change, actor=actor, on=on)
        change.effective_date = on
        change.completed_at = timezone.now()
    change.save(update_fields=["state", "effective_date", "completed_at", "updated_at"])
    log_step(
        change,
        event=Event.FINAL_APPROVE,
        from_state=from_state,
        actor=actor,
        scope=scope,
        note=decided.reason if decided else "",
        ordinal=decided.ordinal if decided else 1,
        detail={"effective_date": on.isoformat()} if change.effective_date else None,
    )
