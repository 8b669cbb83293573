"""Template pieces every app's pages share."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from xueji.core.names import person_name as _person_name

NUMBER_HEADING = mark_safe('<th scope="col" class="num">#</th>')
ACTIONS_HEADING = mark_safe('<th scope="col"></th>')

register = template.Library()


@register.filter
def person_name(user: Any, missing: str | None = None) -> str:
    """A user's name as people write it: 王金凤 (family name first, no space) in Chinese,
    Anna Schmidt in a Western script (xueji.core.names); with no name, the login name, or the
    argument if given (`{{ account|person_name:"—" }}`)."""
    return _person_name(user, missing)


@register.simple_tag
def table_head(*labels: Any, numbered: bool = False, actions: bool = False) -> SafeString:
    """A table's <thead>: a column heading for each label; `numbered` puts a "#" column first,
    `actions` an unlabelled column last (for the row's buttons)."""
    return format_html(
        "<thead><tr>{}{}{}</tr></thead>",
        NUMBER_HEADING if numbered else "",
        format_html_join("", '<th scope="col">{}</th>', ((label,) for label in labels)),
        ACTIONS_HEADING if actions else "",
    )
