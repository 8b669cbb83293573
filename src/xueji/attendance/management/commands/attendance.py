"""The daily scan of attendance: `xueji attendance daily [--on YYYY-MM-DD]` (cron or the
django-tasks worker, xueji.attendance.tasks.attendance_tick) opens and closes dropout-control
cases, flags hollow records, raises symptom alerts and escalates overdue cases."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xueji.attendance.services.scan import attendance_daily


class Command(BaseCommand):
    help = "Run the daily scan of attendance and dropout control (idempotent for a day)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("job", choices=["daily"])
        parser.add_argument("--on", help="the day (YYYY-MM-DD), default today")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            on = datetime.date.fromisoformat(options["on"]) if options["on"] else None
        except ValueError:
            raise CommandError("--on takes a date YYYY-MM-DD") from None
        self.stdout.write(json.dumps(attendance_daily(on=on), default=str))
