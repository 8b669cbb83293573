"""Which accounts an account manager may manage, and where it may place one: the matrix's pure
rule (xueji.access.policy.may_assign_role, by role and level) joined to the manager's area.

- the account's role and level are ones the manager may give, and its school or division lies
  inside the manager's area;
- never the manager's own account (nobody gives themselves a role);
- an account without a role (made on the command line) only by the nation's security
  administrator, who may give any role.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from xueji.access.models import Role, ScopeLevel
from xueji.access.policy import Action, assignable_roles, may_assign_role
from xueji.access.scope import Scope, division_in_area, require, school_in_area
from xueji.accounts.selectors import accounts_in_area
from xueji.core.errors import NotFound


def _is_nation_security_admin(scope: Scope) -> bool:
    return scope.role == Role.SECURITY_ADMIN and scope.level == ScopeLevel.NATION


def manageable_accounts(scope: Scope) -> QuerySet[Any]:
    """The accounts the scope may manage (see the module)."""
    pairs = assignable_roles(scope.role, scope.level)
    if not pairs:
        return get_user_model().objects.none()
    held = Q()
    for role, level in pairs:
        held |= Q(membership__role=role, membership__scope_level=level)
    if _is_nation_security_admin(scope):
        held |= Q(membership__isnull=True)
    return accounts_in_area(scope).filter(held).exclude(pk=scope.user_id)


def managed_account(actor: Any, user_id: int) -> Any:
    """The account `user_id` if the actor may manage it; NotFound otherwise (an account the
    actor may not manage does not exist for it). The actor must hold account.manage (403)."""
    scope = require(actor, Action.ACCOUNT_MANAGE)
    found = (
        manageable_accounts(scope)
        .filter(pk=user_id)
        .select_related("membership__school", "membership__division")
        .first()
    )
    if found is None:
        raise NotFound("account_not_found", _("No such account in your area."))
    return found


def may_place(scope: Scope, role: str, level: str, school: Any, division: Any) -> bool:
    """May the scope give `role` at `level`, at this school or division (None for the nation)?"""
    if not may_assign_role(scope.role, scope.level, role, level):
        return False
    if level == ScopeLevel.SCHOOL:
        return school is not None and school_in_area(scope, school)
    if level == ScopeLevel.NATION:
        return scope.level == ScopeLevel.NATION
    return division is not None and division_in_area(scope, division.code)
