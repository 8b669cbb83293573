"""xueji imports_purge [--days N]: delete kept uploads past their retention, and written
exports past their download period (daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xueji.exports.services import export_jobs_purge
from xueji.imports.services import RETENTION_DAYS, import_jobs_purge


class Command(BaseCommand):
    help = (
        "Delete uploaded import files older than the retention, and exported files past their "
        "download period; jobs and errors stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=RETENTION_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        purged = import_jobs_purge(actor=None, older_than_days=options["days"])
        self.stdout.write(f"{purged} uploaded files deleted")
        exported = export_jobs_purge(actor=None)
        self.stdout.write(f"{exported} exported files deleted")
