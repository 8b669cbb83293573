"""What the services of changes share: the day a step happens, the refusals they word alike,
the scope's filter of requests, and the log of a step (the request's history and its audit
entry, in the step's transaction)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.scope import Scope, area_q
from xueji.audit.services import audit_record
from xueji.changes.models import ChangeLog, ChangeRequest
from xueji.changes.workflow import Place
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import School


def day_of(on: datetime.date | None) -> datetime.date:
    return on or timezone.localdate()


def as_id(value: Any) -> int:
    """An integer id from a form or API value; 0 (no row) when it is not one."""
    text = str(value or "")
    return int(text) if text.isdigit() else 0


def no_such_change() -> NotFound:
    return NotFound("change_not_found", _("No such change request."))


def no_such_student() -> NotFound:
    return NotFound("student_not_found", _("No student with this number and name."))


def field_error(field: str, message: Any, code: str, **params: Any) -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code, params=params or None)]})


def change_active() -> Conflict:
    return Conflict(
        "change_active",
        _(
            "This student already has a change of status or a transfer under way; it must be "
            "finished or withdrawn first."
        ),
    )


def dropout_in_compulsory_education() -> ValidationError:
    return ValidationError(
        _(
            "In compulsory education (grades 1–9) dropping out is not a status a school files. "
            "A child who no longer comes to school is followed as a dropout-control case "
            "(控辍保学, Attendance and dropouts › Dropout-control cases): unexcused absences in "
            "the daily roll open one by themselves, the school logs its steps there, and only "
            "the county education bureau confirms 辍学."
        ),
        code="dropout_in_compulsory_education",
    )


def visible_q(scope: Scope | None) -> Q:
    """Requests a scope may see: the sending or the receiving school is in its area."""
    return area_q(scope, "from_school__") | area_q(scope, "to_school__")


def place_of(school: School) -> Place:
    return Place(
        school_id=school.pk, county_code=school.county_id, province_code=school.province_id
    )


def _audit(
    change: ChangeRequest,
    *,
    actor: Any,
    event: str,
    from_state: str,
    detail: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=f"change.{event}",
        object_type="student",
        object_id=change.student_id,
        detail={"change": str(change.pk), "kind": change.kind, **(detail or {})},
        before={"state": from_state} if from_state else None,
        after={"state": change.state},
    )


def log_step(
    change: ChangeRequest,
    *,
    event: str,
    from_state: str,
    actor: Any,
    scope: Scope | None,
    note: str = "",
    ordinal: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The request's own history and the audit entry of the step, in the same transaction."""
    ChangeLog.objects.create(
        request=change,
        event=event,
        from_state=from_state,
        to_state=change.state,
        step_ordinal=ordinal,
        actor=actor,
        actor_role=scope.role if scope else "",
        note=note,
    )
    _audit(
        change,
        actor=actor,
        event=event,
        from_state=from_state,
        detail={**({"step": ordinal} if ordinal else {}), **(detail or {})},
    )


def locked_change(change_id: Any, scope: Scope | None) -> ChangeRequest:
    change = (
        ChangeRequest.objects.select_for_update(of=("self",))
        .filter(visible_q(scope), pk=change_id)
        .first()
        if scope is not None
        else None
    )
    if change is None:
        raise no_such_change()
    return change
