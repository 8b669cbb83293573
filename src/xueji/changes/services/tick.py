"""The daily tick: held requests whose closed period has ended proceed, steps past their
deadline are flagged to the level above. Idempotent, safe to run concurrently (SKIP LOCKED)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.changes.models import ApprovalStep, ChangeRequest, ChangeState, StepState
from xueji.changes.services.chain import advance
from xueji.changes.services.common import day_of, log_step
from xueji.changes.windows import periods_for, reopens_on
from xueji.changes.workflow import Event, level_above, transition
from xueji.core.errors import Conflict


def _release_one(change: ChangeRequest, on: datetime.date) -> bool:
    provinces = [p for p in (change.from_school.province_id,) if p]
    if change.to_school_id is not None:
        provinces.append(change.to_school.province_id)  # type: ignore[union-attr]
    still = reopens_on(on, periods_for(change.kind, provinces))
    if still is not None:
        # The period was extended since the request was filed: wait on, visibly.
        if still != change.resumes_on:
            change.resumes_on = still
            change.save(update_fields=["resumes_on", "updated_at"])
        return False
    from_state = change.state
    change.state = transition(change.state, Event.RELEASE, change.kind)
    change.save(update_fields=["state", "updated_at"])
    log_step(change, event=Event.RELEASE, from_state=from_state, actor=None, scope=None)
    steps = list(change.steps.order_by("ordinal"))
    advance(change, steps, actor=None, scope=None, on=on, decided=None)
    return True


def changes_release_held(
    *,
    on: datetime.date | None = None,
    batch_size: int = 200,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Release the held requests whose closed period has ended: each proceeds from its next
    step, due 10 working days from today. Safe to run twice or concurrently: rows another run
    holds are skipped, a released request is no longer HELD."""
    on = day_of(on)
    released = 0
    seen: set[Any] = set()
    while True:
        with transaction.atomic():
            batch = list(
                ChangeRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("from_school", "to_school")
                .filter(state=ChangeState.HELD, resumes_on__lte=on)
                .exclude(pk__in=seen)
                .order_by("resumes_on", "pk")[:batch_size]
            )
            if not batch:
                break
            for change in batch:
                seen.add(change.pk)
                try:
                    with transaction.atomic():
                        released += _release_one(change, on)
                except Conflict:
                    # The effect of a one-step chain cannot apply today (e.g. no class to
                    # move into): it stays held, tried again tomorrow, until withdrawn.
                    ChangeRequest.objects.filter(pk=change.pk).update(
                        resumes_on=on + datetime.timedelta(days=1)
                    )
        if progress is not None:
            progress(released)
    return released


def changes_flag_overdue(
    *,
    on: datetime.date | None = None,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Flag the steps past their deadline to the level above (once each)."""
    on = day_of(on)
    flagged = 0
    while True:
        with transaction.atomic():
            batch = list(
                ApprovalStep.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("request", "school", "division")
                .filter(state=StepState.PENDING, due_on__lt=on, overdue_flagged_at__isnull=True)
                .order_by("due_on", "pk")[:batch_size]
            )
            if not batch:
                break
            now = timezone.now()
            for step in batch:
                level, code = level_above(
                    step.level,
                    school_county=step.school.county_id if step.school else None,
                    division_parent=step.division.parent_id if step.division else None,
                )
                step.overdue_flagged_at = now
                step.escalated_to_level = level
                step.escalated_to_division_id = code or None
                audit_record(
                    actor=None,
                    action="change.overdue",
                    object_type="student",
                    object_id=step.request.student_id,
                    detail={
                        "change": str(step.request_id),
                        "step": step.ordinal,
                        "due_on": step.due_on.isoformat() if step.due_on else "",
                        "escalated_to": code or "nation",
                    },
                )
            ApprovalStep.objects.bulk_update(
                batch, ["overdue_flagged_at", "escalated_to_level", "escalated_to_division"]
            )
            flagged += len(batch)
        if progress is not None:
            progress(flagged)
    return flagged
