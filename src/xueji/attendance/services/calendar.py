"""The calendar's closure days: a county's approver closes the county's schools for a day
(weather, epidemics), a school's registrar the own school."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.attendance.models import ClosureDay
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound


def closure_add(*, actor: Any, day: datetime.date, reason: str) -> ClosureDay:
    scope = require(actor, Action.CALENDAR_MANAGE)
    reason = reason.strip()
    if not reason:
        raise FieldErrors(
            {"reason": [ValidationError(_("Say why the schools are closed."), code="required")]}
        )
    where: dict[str, Any] = (
        {"school_id": scope.school_id}
        if scope.level == ScopeLevel.SCHOOL
        else {"county_id": scope.division_code}
    )
    try:
        with transaction.atomic():
            closure = ClosureDay.objects.create(
                day=day, reason=reason[:200], created_by=actor, **where
            )
            audit_record(
                actor=actor,
                action="attendance.closure_add",
                detail={"day": day.isoformat(), "reason": reason[:200], **where},
            )
    except IntegrityError:
        raise Conflict(
            "closure_exists", _("%(day)s is already a closure day.") % {"day": day}
        ) from None
    return closure


def closure_remove(*, actor: Any, closure_id: int) -> None:
    scope = require(actor, Action.CALENDAR_MANAGE)
    where: dict[str, Any] = (
        {"school_id": scope.school_id}
        if scope.level == ScopeLevel.SCHOOL
        else {"county_id": scope.division_code}
    )
    with transaction.atomic():
        closure = ClosureDay.objects.select_for_update().filter(pk=closure_id, **where).first()
        if closure is None:
            raise NotFound("not_found", _("No such closure day."))
        audit_record(
            actor=actor,
            action="attendance.closure_remove",
            detail={"day": closure.day.isoformat(), **where},
        )
        closure.delete()
