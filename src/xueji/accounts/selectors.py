"""Reads of accounts: the accounts of an area, and the sealed ones among them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PREFIX_DIGITS, Scope, area_q, require
from xueji.accounts.models import AccountSeal, SealReason
from xueji.schools.models import School


def accounts_in_area(scope: Scope) -> QuerySet[Any]:
    """Accounts whose membership lies in the scope's area: at one of its schools, or at a
    bureau of it (a county's accounts for a county, a city's and its counties' for a city …).
    Accounts without a membership belong to the nation."""
    users = get_user_model().objects.all()
    if scope.level == ScopeLevel.NATION:
        return users
    schools = School.objects.filter(area_q(scope, ""))
    at_schools = Q(membership__school__in=schools)
    if scope.level == ScopeLevel.SCHOOL:
        return users.filter(at_schools)
    digits = PREFIX_DIGITS[scope.level]
    prefix = (scope.division_code or "")[:digits]
    return users.filter(at_schools | Q(membership__division__code__startswith=prefix))


def sealed_accounts(user: Any) -> list[AccountSeal]:
    """The open seals of the accounts the caller manages, oldest first (account managers only);
    a removal is not listed: it is never reopened."""
    # The administration's rules read accounts_in_area from this module: imported here, not at
    # the top, to keep the two modules from importing each other.
    from xueji.accounts.administration.rules import manageable_accounts

    scope = require(user, Action.ACCOUNT_MANAGE)
    return list(
        AccountSeal.objects.filter(reopened_at__isnull=True, user__in=manageable_accounts(scope))
        .exclude(reason=SealReason.REMOVED)
        .select_related("user__membership__school", "user__membership__division")
        .order_by("sealed_at", "user__username")
    )
