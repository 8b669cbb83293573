"""Decisions on a request: the party of the current step approves or rejects, the applicant
school withdraws one not yet decided. The request is locked; a refusal or a withdrawal of a
transfer gives the record back to the sender."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.scope import PermissionRefused, scope_of
from xueji.changes import policy
from xueji.changes.models import (
    ApprovalStep,
    ChangeRequest,
    ChangeState,
    PartyLevel,
    Side,
    StepState,
)
from xueji.changes.selectors import applicant_school_id
from xueji.changes.services.chain import advance
from xueji.changes.services.common import (
    day_of,
    dropout_in_compulsory_education,
    field_error,
    locked_change,
    log_step,
)
from xueji.changes.services.effects import restore_after_stop
from xueji.changes.workflow import Event, InvalidTransition, transition
from xueji.core.errors import Conflict


def change_decide(
    *,
    actor: Any,
    change_id: Any,
    approve: bool,
    reason: str = "",
    step_ordinal: int | None = None,
    on: datetime.date | None = None,
) -> ChangeRequest:
    """The party of the current step approves (the next party's turn, or the final approval
    with its effect) or rejects with a reason."""
    on = day_of(on)
    scope = scope_of(actor)
    reason = (reason or "").strip()
    with transaction.atomic():
        change = locked_change(change_id, scope)
        steps = list(change.steps.order_by("ordinal"))
        current = next((s for s in steps if s.state == StepState.PENDING), None)
        if change.state != ChangeState.PENDING or current is None:
            transition(change.state, Event.APPROVE if approve else Event.REJECT)
            raise InvalidTransition("invalid_transition", _("The request is not waiting."))
        if step_ordinal is not None and int(step_ordinal) != current.ordinal:
            raise Conflict(
                "step_decided", _("This step has already been decided; reload the request.")
            )
        if not policy.may_decide(
            scope,
            level=current.level,
            school_id=current.school_id,
            division_code=current.division_id,
        ):
            raise Conflict(
                "not_your_step",
                _("The request is waiting for another party, not for you."),
            )
        if not approve and not reason:
            raise field_error("reason", _("Give the reason for the rejection."), "required")
        # A 辍学 of compulsory education filed before schools were refused it: rejected only,
        # the child reported to the county instead (控辍保学).
        if approve and not policy.school_may_file_kind(change.kind, change.from_grade):
            refusal = dropout_in_compulsory_education()
            raise Conflict(str(refusal.code), refusal.message)
        # 转入在先: the sender releases only after every receiving party has accepted.
        if (
            approve
            and current.level == PartyLevel.SCHOOL
            and current.side == Side.SENDER
            and any(s.side == Side.RECEIVER and s.state != StepState.APPROVED for s in steps)
        ):
            raise Conflict(
                "sender_before_receiver",
                _("The receiving side has not accepted the student yet."),
            )
        current.decided_by = actor
        current.decided_at = timezone.now()
        current.reason = reason
        if approve:
            current.state = StepState.APPROVED
            current.save(update_fields=["state", "decided_by", "decided_at", "reason"])
            advance(change, steps, actor=actor, scope=scope, on=on, decided=current)
            return change
        from_state = change.state
        change.state = transition(change.state, Event.REJECT, change.kind)
        current.state = StepState.REJECTED
        current.save(update_fields=["state", "decided_by", "decided_at", "reason"])
        ApprovalStep.objects.filter(request=change, state=StepState.WAITING).update(
            state=StepState.CANCELLED
        )
        change.save(update_fields=["state", "updated_at"])
        restore_after_stop(change)
        log_step(
            change,
            event=Event.REJECT,
            from_state=from_state,
            actor=actor,
            scope=scope,
            note=reason,
            ordinal=current.ordinal,
        )
    return change


def change_withdraw(
    *, actor: Any, change_id: Any, reason: str = "", on: datetime.date | None = None
) -> ChangeRequest:
    """The applicant school takes back a request not yet decided (held or pending)."""
    scope = scope_of(actor)
    reason = (reason or "").strip()
    with transaction.atomic():
        change = locked_change(change_id, scope)
        if not policy.may_withdraw(scope, applicant_school_id(change)):
            raise PermissionRefused(
                "forbidden", _("Only the school that filed it may withdraw it.")
            )
        from_state = change.state
        change.state = transition(change.state, Event.WITHDRAW, change.kind)
        ApprovalStep.objects.filter(
            request=change, state__in=[StepState.WAITING, StepState.PENDING]
        ).update(state=StepState.CANCELLED)
        change.save(update_fields=["state", "updated_at"])
        restore_after_stop(change)
        log_step(
            change,
            event=Event.WITHDRAW,
            from_state=from_state,
            actor=actor,
            scope=scope,
            note=reason,
        )
    return change
