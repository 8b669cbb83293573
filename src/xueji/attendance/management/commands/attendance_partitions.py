"""Make, detach or drop the roll's monthly partitions on PostgreSQL (xueji.attendance.partitions).

xueji attendance_partitions --ensure 2027-09:2028-08
xueji attendance_partitions --detach 2025-09
xueji attendance_partitions --drop 2025-09      # only a month detached before
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from xueji.attendance.partitions import month_detach, month_drop, month_ensure, months


def _month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(part) for part in text.split("-"))
    except ValueError:
        raise CommandError(f"not a month (YYYY-MM): {text}") from None
    if not 1 <= month <= 12:
        raise CommandError(f"not a month (YYYY-MM): {text}")
    return year, month


class Command(BaseCommand):
    help = "Make, detach or drop monthly partitions of the roll (PostgreSQL)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--ensure", help="FIRST:LAST months (YYYY-MM:YYYY-MM) to make")
        parser.add_argument("--detach", help="the month (YYYY-MM) to detach")
        parser.add_argument("--drop", help="the detached month (YYYY-MM) to drop")

    def handle(self, *args: Any, **options: Any) -> None:
        # DDL is the tables' owner's (XUEJI_OWNER_DATABASE_URL), as for `xueji migrate`.
        connection = connections["owner" if "owner" in settings.DATABASES else "default"]
        if connection.vendor != "postgresql":
            self.stdout.write("Not PostgreSQL: the roll's tables are not partitioned.")
            return
        done: list[str] = []
        if options["ensure"]:
            first_text, _sep, last_text = options["ensure"].partition(":")
            first, last = _month(first_text), _month(last_text or first_text)
            count = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
            if count < 1:
                raise CommandError("the last month comes before the first")
            for year, month in months(first, count):
                done += month_ensure(connection, year, month)
        if options["detach"]:
            done += month_detach(connection, *_month(options["detach"]))
        if options["drop"]:
            done += month_drop(connection, *_month(options["drop"]))
        for name in done:
            self.stdout.write(name)
