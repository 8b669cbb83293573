"""`xueji changes tick [--date YYYY-MM-DD]`: release the requests held by a closed period that
has ended and flag the steps past their 10-working-day deadline to the level above. Idempotent:
run it daily (cron or the django-tasks worker, xueji.changes.tasks.changes_tick).
`xueji changes demo`: after `xueji load_demo`, a few changes under way for the demo accounts."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.changes.demo import changes_demo_seed
from xueji.changes.services import changes_flag_overdue, changes_release_held


class Command(BaseCommand):
    help = "Changes of status: run the daily tick (release held requests, flag overdue steps)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        tick = commands.add_parser(
            "tick", help="Release held requests whose closed period ended; flag overdue steps."
        )
        tick.add_argument("--date", help="the day to run for (YYYY-MM-DD), default today")
        tick.add_argument("--batch-size", type=int, default=200)
        commands.add_parser(
            "demo", help="After load_demo: file a few transfers and a suspension under way."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "demo":
            filed = changes_demo_seed()
            self.stdout.write(f"filed {filed} demo change(s) under way")
            return
        on = None
        if options.get("date"):
            try:
                on = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be YYYY-MM-DD") from None
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")

        def progress(label: str) -> Any:
            return lambda count: self.stdout.write(f"  {label}: {count}…")

        released = changes_release_held(
            on=on, batch_size=options["batch_size"], progress=progress("released")
        )
        self.stdout.write(f"released {released} held request(s)")
        flagged = changes_flag_overdue(
            on=on, batch_size=options["batch_size"], progress=progress("flagged")
        )
        self.stdout.write(f"flagged {flagged} overdue step(s) to the level above")
