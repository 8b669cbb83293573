"""Who needs what to sign in: the account rules, pure apart from reading the user's scope."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from xueji.access.models import Role
from xueji.access.scope import scope_of

# Bureau staff, auditors and administrators see a whole area: a password alone is not enough.
SECOND_FACTOR_ROLES = frozenset(
    {Role.BUREAU_VIEWER, Role.BUREAU_APPROVER, Role.AUDITOR, Role.ADMIN, Role.SECURITY_ADMIN}
)


def needs_second_factor(user: Any) -> bool:
    """Must this signed-in user prove a TOTP code before anything else?"""
    if not getattr(settings, "XUEJI_TWO_FACTOR_REQUIRED", True):
        return False
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    scope = scope_of(user)
    return scope is not None and scope.role in SECOND_FACTOR_ROLES


def stale_days() -> int:
    return int(getattr(settings, "XUEJI_ACCOUNT_STALE_DAYS", 180))


def idle_seconds() -> int:
    return int(getattr(settings, "XUEJI_SESSION_IDLE_MINUTES", 30)) * 60
