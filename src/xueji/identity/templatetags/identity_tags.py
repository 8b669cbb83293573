"""The county home's identity counts (身份核验, 一人多籍, 有人无籍):
`{% identity_home_counts %}`."""

from __future__ import annotations

from typing import Any

from django import template

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of

register = template.Library()


@register.inclusion_tag("identity/_home_counts.html", takes_context=True)
def identity_home_counts(context: dict[str, Any]) -> dict[str, Any]:
    """For a county's bureau staff: the county's records by identity status, its open pairs
    (its own and those of other sources: the pairs across provinces of a province's node) and
    its children with no record, each linking to its list; nothing for anyone else."""
    from xueji.identity.selectors import identity_status_counts
    from xueji.identity.sources import other_pairs_waiting

    request = context.get("request")
    scope = scope_of(getattr(request, "user", None))
    if (
        scope is None
        or scope.level != ScopeLevel.COUNTY
        or not may(scope, Action.IDENTITY_STATUS_VIEW)
    ):
        return {"counts": None}
    counts = identity_status_counts(county_code=scope.division_code or "")
    # The open pairs of other sources too (a province's node: the pairs across provinces).
    counts["open_pairs"] += other_pairs_waiting(getattr(request, "user", None))
    return {
        "counts": counts,
        "may_pairs": may(scope, Action.DUPLICATE_VIEW),
        "may_unrecorded": may(scope, Action.UNRECORDED_VIEW),
        "may_review": may(scope, Action.REGISTRATION_REVIEW),
    }
