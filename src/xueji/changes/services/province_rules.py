"""A province's rules of transfers, edited on a page by the province (its own) or the ministry
(any): each change is a new version with who made it, when and why, checked with the settings'
schema (`province_rules_validate`); the versions before stay as the history."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, require
from xueji.audit.services import audit_record
from xueji.changes.models import ProvinceRuleVersion
from xueji.changes.rules import (
    EDITABLE_RULES,
    RulesError,
    province_rules_validate,
    rule_values,
)
from xueji.changes.windows import province_division, province_rules
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.models import Division, DivisionLevel

# What a page says for each way a value can be wrong (the settings' check says it in English
# for the operator; a page says it in the reader's language, next to the field).
_REASONS = {
    "unknown_key": _("This is not a rule of transfers."),
    "wrong_type": _("Answer yes or no."),
    "bad_value": _("This value is not allowed here."),
    "missing": _("This rule needs a value."),
}


def _field_error(field: str, message: Any, code: str) -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code)]})


def province_rules_save(
    *, actor: Any, province_code: str, rules: dict[str, Any], reason: str
) -> ProvinceRuleVersion:
    """A new version of a province's rules: `rules` gives every rule of the page (see
    xueji.changes.rules.EDITABLE_RULES); the ministry edits any province's, a province its
    own. Refused, naming the field, when a value is wrong, the reason is missing or nothing
    would change."""
    scope = require(actor, Action.PROVINCE_RULES_MANAGE)
    if scope.level not in (ScopeLevel.NATION, ScopeLevel.PROVINCE):
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    code = (province_code or "").strip()
    province = (
        Division.objects.filter(pk=province_division(code), level=DivisionLevel.PROVINCE).first()
        if len(code) in (2, 6) and code.isdigit()
        else None
    )
    if province is None or (
        scope.level == ScopeLevel.PROVINCE and province.code != scope.division_code
    ):
        raise NotFound("province_not_found", _("No such province in your area."))
    if "closed" in rules:
        raise _field_error(
            "closed",
            _("Closed periods are set on the page of closed periods."),
            "use_closed_periods",
        )
    try:
        typed = province_rules_validate({province.code[:2]: rules}, setting="province_rules").of(
            province.code
        )
    except RulesError as error:
        field = error.key.split(".")[0].split("[")[0] or "__all__"
        raise _field_error(field, _REASONS.get(error.code, error.reason), error.code) from None
    missing = [name for name in EDITABLE_RULES if name not in rules]
    if missing:
        raise FieldErrors(
            {name: [ValidationError(_REASONS["missing"], code="missing")] for name in missing}
        )
    reason = (reason or "").strip()
    if not reason:
        raise _field_error("reason", _("Say why the rules change."), "required")
    values = rule_values(typed)
    with transaction.atomic():
        # One version at a time per province: its row serialises two editors.
        Division.objects.select_for_update().filter(pk=province.pk).first()
        before = rule_values(province_rules(province.code))
        if values == before:
            raise _field_error("__all__", _("Nothing would change."), "no_change")
        latest = ProvinceRuleVersion.objects.filter(province=province).aggregate(
            latest=Max("version")
        )["latest"]
        version = ProvinceRuleVersion.objects.create(
            province=province,
            version=(latest or 0) + 1,
            rules=values,
            reason=reason,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="province_rules.save",
            object_type="province_rules",
            detail={"province": province.code, "version": version.version, "reason": reason},
            before=before,
            after=values,
        )
    return version
