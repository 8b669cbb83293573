"""`xueji duplicates check-file FILE.csv --output pairs.csv [--against-registry]` and
`xueji duplicates scan [--area CODE] [--enqueue]` (the nightly scan, for cron)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Find records that may be one child (一人多籍): in a file, or in the registry."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        check = commands.add_parser("check-file", help="duplicates inside a CSV file of records")
        check.add_argument("file", type=Path)
        check.add_argument("--output", type=Path, required=True)
        check.add_argument("--against-registry", action="store_true")
        scan = commands.add_parser("scan", help="the registry's scan (nightly, or an area)")
        scan.add_argument("--area", default="", help="a division code; the whole registry if empty")
        scan.add_argument("--enqueue", action="store_true", help="run it in the task worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["command"] == "check-file":
            from xueji.identity.checkfile import BadFile, run

            if not options["file"].exists():
                raise CommandError(f"no such file: {options['file']}")
            try:
                result = run(
                    options["file"], options["output"], against_registry=options["against_registry"]
                )
            except BadFile as bad:
                raise CommandError(str(bad)) from None
            self.stdout.write(f"{result['pairs']} pairs written to {options['output']}")
            return
        if options["enqueue"]:
            from xueji.identity.tasks import scan_duplicates

            scan_duplicates.enqueue(area_code=options["area"])
            self.stdout.write("scan queued")
            return
        from xueji.identity.scan import duplicate_scan
        from xueji.identity.services import pairs_escalate_overdue

        escalated = pairs_escalate_overdue()
        scanned = duplicate_scan(actor=None, area_code=options["area"])
        self.stdout.write(
            f"{scanned.records} records, {scanned.matches} matches, {scanned.proposed} new "
            f"pairs, {escalated} escalated, {scanned.seconds} s"
        )
