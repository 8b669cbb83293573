"""System checks of the audit trail's configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

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
