"""Money in templates: integer fen shown as yuan (¥1,234.50), never through a float."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    if fen is None or fen == "":
        return ""
    value = int(fen)
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}¥{value // 100:,}.{value % 100:02d}"


@register.filter
def masked(name: str) -> str:
    from xueji.welfare.selectors import masked_name

    return masked_name(name or "")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key, 0) if hasattr(mapping, "get") else 0
