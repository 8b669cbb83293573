"""Who sees exact figures and who sees small cells suppressed (a pure rule, no database).

Small cells could identify a child: "one girl of 13 in grade 4 at this school" is a person. Users
who may open the individual records of the children counted — school staff, county bureau staff,
and approvers at any level — see exact figures. Everyone else (bureau viewers above the county,
auditors, administrators, and anyone without a role) sees counts from 1 to
XUEJI_SMALL_CELL_THRESHOLD − 1 as "<N", with whatever else a table's totals would give away.
"""

from __future__ import annotations

from django.conf import settings

from xueji.access.models import SCHOOL_ROLES, Role, ScopeLevel
from xueji.access.scope import Scope

DEFAULT_THRESHOLD = 5


def small_cell_threshold() -> int:
    """Counts below this (and above zero) are suppressed for those the rule applies to."""
    return int(getattr(settings, "XUEJI_SMALL_CELL_THRESHOLD", DEFAULT_THRESHOLD))


def sees_exact_figures(scope: Scope | None) -> bool:
    if scope is None:
        return False
    if scope.role in SCHOOL_ROLES or scope.role == Role.BUREAU_APPROVER:
        return True
    return scope.role == Role.BUREAU_VIEWER and scope.level == ScopeLevel.COUNTY


def suppresses_small_cells(scope: Scope | None) -> bool:
    return not sees_exact_figures(scope)
