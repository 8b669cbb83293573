"""Display helpers for the audit page."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist

from xueji.access.models import Role
from xueji.students.models import Student
from xueji.trail.actions import action_label as label_of_action

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """A stored JSON value, indented for reading (autoescaped by the template)."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


@register.filter
def role_label(role: str) -> str:
    """The role the actor held when acting, in the page's language."""
    if not role:
        return ""
    try:
        return str(Role(role).label)
    except ValueError:
        return role


@register.filter
def action_label(code: str) -> str:
    """The audit action's name in the page's language; an unknown action shows its code."""
    return label_of_action(code or "")


def _field_label(key: str) -> str:
    try:
        found = Student._meta.get_field(key)
    except FieldDoesNotExist:  # not a field of the record: the key itself
        return key
    return str(getattr(found, "verbose_name", key))


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@register.filter
def change_rows(entry: Any) -> list[tuple[str, str, str]]:
    """The entry's before and after as rows (field label, before, after), fields in order."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    keys = sorted(set(before) | set(after))
    rows = [(_field_label(key), _shown(before.get(key)), _shown(after.get(key))) for key in keys]
    if entry.before is not None and not isinstance(entry.before, dict):
        rows.append(("", _shown(entry.before), _shown(entry.after)))
    elif entry.after is not None and not isinstance(entry.after, dict) and not before:
        rows.append(("", "—", _shown(entry.after)))
    return rows


@register.filter
def detail_rows(value: Any) -> list[tuple[str, str]]:
    """The entry's details as rows (label, value)."""
    if not isinstance(value, dict):
        return [] if value in (None, "", {}) else [("", _shown(value))]
    return [(_field_label(key), _shown(value[key])) for key in sorted(value)]


@register.filter
def student_of(entry: Any, students: dict[str, Any]) -> Any:
    """The student an entry is about, when the page's auditor may see them."""
    if entry.object_type != "student" or not entry.object_id:
        return None
    return students.get(str(entry.object_id))
