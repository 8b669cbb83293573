"""Template filters of the registry of schools' pages."""

from __future__ import annotations

from typing import Any

from django import template

from xueji.schools.models import grade_label as _grade_label

register = template.Library()


@register.filter
def school_grade(grade: Any) -> str:
    """小班 … 大班, 一年级 … 高三, from a grade number."""
    try:
        return _grade_label(int(grade))
    except (TypeError, ValueError):
        return ""
