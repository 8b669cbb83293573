"""Template helpers of the statistics pages: a chart's container with its data block."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, json_script

register = template.Library()


@register.simple_tag
def chart(charts: dict[str, Any], key: str, css: str = "") -> str:
    """A chart container and its data as a JSON data block (read by static/js/stats.js; no
    inline script, so that a strict content security policy can stand)."""
    data = charts.get(key)
    if data is None:
        return ""
    source = f"chart-data-{key}"
    return format_html(
        '<figure class="chart {}"><div class="chart-canvas" data-chart="{}" data-source="{}" '
        'role="img" aria-label="{}"></div>{}</figure>',
        css,
        key,
        source,
        data.get("title", ""),
        json_script(data, source),
    )
