"""Template tags of changes of status shown on other apps' pages: the header's inbox count, the
record page's change section, and the transfers under way into a class (the receiving side)."""

from __future__ import annotations

from typing import Any

from django import template

from xueji.access.policy import Action
from xueji.access.scope import may, scope_of, today
from xueji.changes.policy import kinds_offered, may_file
from xueji.changes.selectors import active_change_of, inbox_count, incoming_transfers
from xueji.students.selectors import placement_on

register = template.Library()


def _user(context: Any) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


@register.simple_tag(takes_context=True)
def change_inbox(context: Any) -> int:
    """How many requests wait for the signed-in user's decision."""
    return inbox_count(_user(context))


@register.inclusion_tag("changes/_record_changes.html", takes_context=True)
def record_changes(context: Any, student: Any) -> dict[str, Any]:
    """The record page's section: the change under way (转学中 …) and, for the registrar of the
    student's school, the links that file a change."""
    user = _user(context)
    scope = scope_of(user)
    filer = may_file(scope, student.school_id)
    placement = placement_on(student.pk, today()) if filer else None
    return {
        "student": student,
        "active": active_change_of(user, student.pk) if may(scope, Action.CHANGE_VIEW) else None,
        "may_file": filer,
        # Only the kinds possible for this child now: 复学 for a suspended child, no 辍学 in
        # compulsory education, nothing for a child no longer on the roll.
        "kinds": kinds_offered(student.state, placement.grade) if placement else [],
    }


@register.inclusion_tag("changes/_incoming.html", takes_context=True)
def incoming_into(context: Any, school_class: Any) -> dict[str, Any]:
    """Transfers under way into this class: the receiving side's "转学中"."""
    rows = incoming_transfers(_user(context), school_id=school_class.school_id)
    return {"rows": [r for r in rows if r.change.to_class_id == school_class.pk]}
