"""Background work of changes of status (django-tasks): once a day, release the requests held
by a closed period that has ended, and flag the steps past their deadline to the level above.
Both are idempotent and safe to run concurrently (rows are taken with SKIP LOCKED)."""

from __future__ import annotations

import datetime

from django_tasks import task

from xueji.changes.services import changes_flag_overdue, changes_release_held


@task()
def changes_tick(on: str | None = None) -> dict[str, int]:
    """Release held requests, then flag overdue steps; `on` is an ISO date (default today)."""
    day = datetime.date.fromisoformat(on) if on else None
    return {
        "released": changes_release_held(on=day),
        "flagged": changes_flag_overdue(on=day),
    }
