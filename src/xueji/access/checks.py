"""System checks of access: the permission matrix keeps the three duties apart (三员分立)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error

from xueji.access.policy import separation_of_duties_violations


def check_separation_of_duties(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A matrix that lets one role do two duties' work stops the server (every command runs
    the checks), naming what it grants."""
    return [
        Error(
            f"The permission matrix breaks the separation of duties (三员分立): {violation}.",
            hint="See DUTY_ACTIONS in xueji.access.policy.",
            id="xueji_access.E001",
        )
        for violation in separation_of_duties_violations()
    ]
