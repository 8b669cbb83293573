"""Display helpers for student pages: grades, masked numbers, code labels."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xueji.core import codes
from xueji.core.idnumbers import mask_id_number, mask_student_number
from xueji.core.names import person_name as core_person_name
from xueji.schools.models import grade_label as _grade_label
from xueji.students.models import PlacementReason

register = template.Library()


@register.filter
def grade_label(grade: Any) -> str:
    try:
        return _grade_label(int(grade))
    except (TypeError, ValueError):
        return ""


@register.filter
def masked_number(number: str | None) -> str:
    """A student number with the birth date and sequence hidden."""
    return mask_student_number(number)


@register.filter
def masked_id(number: str | None) -> str:
    return mask_id_number(number)


@register.filter
def ethnicity_label(code: str) -> str:
    return codes.ETHNICITY_NAMES.get(code, code)


@register.filter
def nationality_label(alpha_3: str) -> str:
    language = "zh_CN" if (get_language() or "").startswith("zh") else "en"
    return codes.nationality_label(alpha_3, language)


@register.filter
def placement_reason(reason: str) -> str:
    return str(PlacementReason(reason).label) if reason in PlacementReason.values else reason


@register.filter
def yes_no(value: Any) -> str:
    return _("Yes") if value else _("No")


@register.filter
def state_badge(state: str) -> str:
    """The badge colour of a record state."""
    if state == "enrolled":
        return "ok"
    if state in ("suspended", "transferring"):
        return "warn"
    return ""


@register.filter
def person_name(user: Any) -> str:
    """A user's name as people write it: 王芳 (family name first) for Chinese, else first last
    (the one rule of xueji.core.names; also `core_tags`' filter of the same name)."""
    return core_person_name(user)
