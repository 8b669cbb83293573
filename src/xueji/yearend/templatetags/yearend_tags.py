"""Labels of the year end's reports: a run's report keeps codes (outcomes, record states, the
reason a top grade has no school to go on to), which the pages show in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template

from xueji.students.models import RecordState
from xueji.yearend.models import Outcome
from xueji.yearend.services import UNPLACED_REASONS

register = template.Library()


@register.filter
def outcome_label(outcome: str) -> str:
    """毕业, 升级 … for an outcome code of a run's report (the code itself if unknown)."""
    try:
        return str(Outcome(outcome).label)
    except ValueError:
        return str(outcome)


@register.filter
def record_state_label(state: str) -> str:
    """休学, 转学中 … for a record state code (the code itself if unknown)."""
    try:
        return str(RecordState(state).label)
    except ValueError:
        return str(state)


@register.filter
def unplaced_reason(reason: str) -> str:
    """Why a top grade has no school to go on to, in words."""
    return str(UNPLACED_REASONS.get(reason, reason))


@register.filter
def by_grade(grades: dict[str, Any]) -> list[tuple[int, list[tuple[str, int]]]]:
    """A school's counts of the report ({"6": {"graduated": 77}}) as (grade, [(outcome, n)])
    in the order of the grades."""
    rows = []
    for grade, counts in (grades or {}).items():
        try:
            number = int(grade)
        except (TypeError, ValueError):
            continue
        rows.append((number, sorted(counts.items())))
    return sorted(rows)
