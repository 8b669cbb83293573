"""Background work of attendance (django-tasks): the daily scan (xueji.attendance.services.scan)."""

from __future__ import annotations

import datetime
from typing import Any

from django_tasks import task

from xueji.attendance.services.scan import attendance_daily


@task()
def attendance_tick(on: str | None = None) -> dict[str, Any]:
    """Run the day's scan; `on` is an ISO date (default today)."""
    return attendance_daily(on=datetime.date.fromisoformat(on) if on else None)
