"""Writes of the promotion period (升级毕业时间, xueji.yearend.periods): the ministry sets the
nation's and any province's, a province its own; each change in one transaction with its audit
entry (what it was before and after). Clearing a province's own period gives it the nation's
again. The people who set the closed periods set this one too (change.window_manage): both say
when in the year an operation may be done.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, Scope, require
from xueji.audit.services import audit_record
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.models import Division, DivisionLevel
from xueji.yearend.models import PERIOD_NATION, PromotionPeriod
from xueji.yearend.periods import month_day

NOTE_MAX = 200


def _managing(actor: Any) -> Scope:
    scope = require(actor, Action.CHANGE_WINDOW_MANAGE)
    if scope.level not in (ScopeLevel.NATION, ScopeLevel.PROVINCE):
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    return scope


def _whose(scope: Scope, level: str) -> str:
    """The level set: "nation" or a province's 2 digits. The ministry may name any; a province
    only itself (another province is not found)."""
    code = (level or "").strip()
    if not code:
        raise FieldErrors(
            {"level": [ValidationError(_("Choose the nation or a province."), code="required")]}
        )
    if code == PERIOD_NATION:
        if scope.level != ScopeLevel.NATION:
            raise PermissionRefused(
                "forbidden", _("Only the ministry sets the nation's promotion period.")
            )
        return PERIOD_NATION
    if scope.level == ScopeLevel.PROVINCE:
        own = (scope.division_code or "")[:2]
        if code[:2] != own:
            raise NotFound("province_not_found", _("No such province in your area."))
        return own
    province = (
        Division.objects.filter(pk=code[:2] + "0000", level=DivisionLevel.PROVINCE).first()
        if code[:2].isdigit()
        else None
    )
    if province is None:
        raise FieldErrors(
            {"level": [ValidationError(_("Choose the nation or a province."), code="invalid")]}
        )
    return code[:2]


def _shown(row: PromotionPeriod | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "scope": row.scope,
        "from": f"{row.start_month:02d}-{row.start_day:02d}",
        "to": f"{row.end_month:02d}-{row.end_day:02d}",
        "note": row.note,
    }


def promotion_period_set(
    *, actor: Any, level: str, starts: str, ends: str, note: str = ""
) -> PromotionPeriod:
    """Set a level's promotion period: every year from `starts` to `ends` (MM-DD, both
    included; it may run over the new year). Every bad field is named; nothing is written."""
    scope = _managing(actor)
    whose = _whose(scope, level)
    first, last = month_day(starts), month_day(ends)
    problems: dict[str, list[ValidationError]] = {}
    for field, value in (("starts", first), ("ends", last)):
        if value is None:
            problems[field] = [
                ValidationError(
                    _("Give a day of the year as MM-DD (for example 07-01)."), code="invalid"
                )
            ]
    if first is not None and first == last:
        problems["ends"] = [
            ValidationError(_("A promotion period lasts more than one day."), code="too_short")
        ]
    if len((note or "").strip()) > NOTE_MAX:
        problems["note"] = [
            ValidationError(_("At most %(max)d characters.") % {"max": NOTE_MAX}, code="too_long")
        ]
    if problems:
        raise FieldErrors(problems)
    assert first is not None and last is not None
    with transaction.atomic():
        row = PromotionPeriod.objects.select_for_update().filter(scope=whose).first()
        before = _shown(row)
        if row is None:
            row = PromotionPeriod(scope=whose)
        row.start_month, row.start_day = first
        row.end_month, row.end_day = last
        row.note = (note or "").strip()
        row.set_by = actor
        row.save()
        audit_record(
            actor=actor,
            action="yearend.period_set",
            object_type="promotion_period",
            before=before,
            after=_shown(row),
        )
    return row


def promotion_period_clear(*, actor: Any, level: str) -> None:
    """A province's own period is cleared: the nation's applies to it again. The nation's
    goes back to the settings' (or the default)."""
    scope = _managing(actor)
    whose = _whose(scope, level)
    with transaction.atomic():
        row = PromotionPeriod.objects.select_for_update().filter(scope=whose).first()
        if row is None:
            return
        before = _shown(row)
        row.delete()
        audit_record(
            actor=actor,
            action="yearend.period_clear",
            object_type="promotion_period",
            before=before,
        )
