"""Display helpers for the audit page."""

from __future__ import annotations

import json
from typing import Any

from django import template

from xueji.access.models import Role

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
