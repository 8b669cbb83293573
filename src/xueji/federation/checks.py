"""System checks of the two-level deployment's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from xueji.federation.retention import (
    DEFAULT_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    retention_problem,
)


def check_retention(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Messages between nodes are kept long enough to be acknowledged (federation.retention)."""
    problem = retention_problem(
        getattr(settings, "XUEJI_FEDERATION_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    )
    if problem:
        return [
            Error(
                problem,
                hint=f"Set XUEJI_FEDERATION_RETENTION_DAYS to {MIN_RETENTION_DAYS} or more "
                "(default 30).",
                id="xueji_federation.E001",
            )
        ]
    return []
