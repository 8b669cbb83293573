"""System checks of the audit trail's configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from xueji.audit.roles import role_problems
from xueji.audit.services import MIN_RETENTION_DAYS


def check_retention(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The trail is kept at least 180 days (six months, the rule for 学籍 logs)."""
    days = getattr(settings, "XUEJI_AUDIT_RETENTION_DAYS", None)
    if not isinstance(days, int) or isinstance(days, bool) or days < MIN_RETENTION_DAYS:
        return [
            Error(
                f"XUEJI_AUDIT_RETENTION_DAYS is {days!r}; audit entries must be kept at least "
                f"{MIN_RETENTION_DAYS} days.",
                hint=f"Set XUEJI_AUDIT_RETENTION_DAYS to {MIN_RETENTION_DAYS} or more.",
                id="xueji_audit.E001",
            )
        ]
    return []


def check_database_role(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """In production the application connects as a role that owns no table and is no
    superuser: either could rewrite the audit trail and disable its triggers."""
    databases = kwargs.get("databases") or []
    if "default" not in databases:
        return []
    return [
        Error(
            problem,
            hint="Connect as the application role (DATABASE_URL) and migrate as the owner "
            "(XUEJI_OWNER_DATABASE_URL); see README, Security.",
            id="xueji_audit.E002",
        )
        for problem in role_problems()
    ]
