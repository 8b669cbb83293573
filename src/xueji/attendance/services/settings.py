"""A province's dropout-control settings, set on a page (or the API) by the province's bureau or
the ministry: each value checked with a reason naming the field, every save kept as a history
row (who, when, old → new) with its audit entry. The environment (`XUEJI_ATTENDANCE`) gives the
defaults of a province that saved none, never overrides a saved value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, require
from xueji.attendance.models import ProvinceSettings, ProvinceSettingsChange
from xueji.attendance.rules import FIELDS, settings_for
from xueji.audit.services import audit_record
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.models import Division, DivisionLevel

# The bounds of each setting (inclusive): wide enough for any province's policy, narrow enough
# that a typo (a run of 300 days) is caught.
BOUNDS: dict[str, tuple[int, int]] = {
    "unexcused_run_days": (1, 30),
    "unexcused_term_days": (1, 120),
    "returned_after_days": (1, 60),
    "hollow_after_days": (5, 120),
    "cluster_children": (2, 50),
    "cluster_days": (1, 30),
    "step_deadline_working_days": (1, 60),
    "graduate_grade": (6, 9),
}


def province_of(actor: Any, province_code: str) -> Division:
    """The province the actor may set: its own (a province's bureau) or any (the ministry).
    `province_code` is its two digits or its six-digit code."""
    scope = require(actor, Action.ATTENDANCE_SETTINGS)
    if scope.level not in (ScopeLevel.PROVINCE, ScopeLevel.NATION):
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    code = (province_code or "").strip()
    province = (
        Division.objects.filter(code=code[:2] + "0000", level=DivisionLevel.PROVINCE).first()
        if len(code) in (2, 6) and code.isdigit()
        else None
    )
    if province is None or (
        scope.level == ScopeLevel.PROVINCE and province.code != scope.division_code
    ):
        raise NotFound("province_not_found", _("No such province in your area."))
    return province


def _checked(values: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, list[ValidationError]]]:
    typed: dict[str, int] = {}
    problems: dict[str, list[ValidationError]] = {}
    for name in FIELDS:
        raw = values.get(name)
        text = "" if raw is None else str(raw).strip()
        if text == "":
            problems[name] = [ValidationError(_("Enter a number of days."), code="required")]
            continue
        try:
            number = int(text)
        except ValueError:
            problems[name] = [ValidationError(_("Enter a whole number."), code="invalid")]
            continue
        low, high = BOUNDS[name]
        if name == "graduate_grade":
            if number not in (6, 9):
                problems[name] = [
                    ValidationError(
                        _("Grade 6 (end of primary school) or 9 (end of compulsory education)."),
                        code="out_of_range",
                    )
                ]
                continue
        elif not low <= number <= high:
            problems[name] = [
                ValidationError(
                    _("Between %(low)s and %(high)s.") % {"low": low, "high": high},
                    code="out_of_range",
                )
            ]
            continue
        typed[name] = number
    if (
        "unexcused_run_days" in typed
        and "unexcused_term_days" in typed
        and typed["unexcused_term_days"] < typed["unexcused_run_days"]
    ):
        problems["unexcused_term_days"] = [
            ValidationError(
                _("At least the unexcused days in a row (%(days)s): a run opens a case first.")
                % {"days": typed["unexcused_run_days"]},
                code="below_run",
            )
        ]
    unknown = sorted(set(values) - set(FIELDS) - {"province_code", "csrfmiddlewaretoken"})
    if unknown:
        problems[unknown[0]] = [
            ValidationError(_("This is not a dropout-control setting."), code="unknown")
        ]
    return typed, problems


def province_settings_save(
    *, actor: Any, province_code: str, values: Mapping[str, Any]
) -> ProvinceSettingsChange | None:
    """Save every setting of the province (`values` names each of FIELDS). Refused naming the
    field when a value is missing, not a number or out of its bounds; None when nothing would
    change (no history row)."""
    province = province_of(actor, province_code)
    typed, problems = _checked(values)
    if problems:
        raise FieldErrors(problems)
    with transaction.atomic():
        row = ProvinceSettings.objects.select_for_update().filter(province=province).first()
        current = row if row is not None else settings_for(province.code)
        changes = {
            name: [getattr(current, name), typed[name]]
            for name in FIELDS
            if getattr(current, name) != typed[name]
        }
        if not changes and row is not None:
            return None
        if row is None:
            row = ProvinceSettings(province=province)
        for name in FIELDS:
            setattr(row, name, typed[name])
        row.save()
        change = ProvinceSettingsChange.objects.create(
            province=province, actor=actor, changes=changes
        )
        audit_record(
            actor=actor,
            action="attendance.settings_save",
            detail={"province": province.code},
            before={name: old for name, (old, _new) in changes.items()},
            after={name: new for name, (_old, new) in changes.items()},
        )
    return change
