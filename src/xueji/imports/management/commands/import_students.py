"""xueji import_students --school CODE --user USERNAME FILE: import a spreadsheet with a progress
bar, all or nothing, as the school's registrar (the same checks and writes as the web page)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.access.scope import scope_of
from xueji.core.errors import ServiceError
from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.services import import_job_create, import_job_run
from xueji.schools.models import School

BAR = 30


class ProgressBar:
    def __init__(self, out: Any) -> None:
        self.out = out
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        share = min(done / total, 1.0) if total else 0.0
        filled = int(share * BAR)
        rate = done / (now - self.started) if now > self.started else 0.0
        self.out.write(
            f"\r[{'#' * filled}{'.' * (BAR - filled)}] {share:4.0%} "
            f"{done:,}/{total:,} rows ({rate:,.0f}/s)",
            ending="",
        )
        self.out.flush()

    def writing(self, message: str) -> None:
        self.out.write(f"\n{message}")


class Command(BaseCommand):
    help = "Import a spreadsheet (.xlsx, .xls, CSV in UTF-8 or GBK) of a school, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--school", required=True, help="the school's 10-digit code")
        parser.add_argument("--user", required=True, help="username of the school's registrar")
        parser.add_argument("--purpose", choices=cols.PURPOSES, default=cols.STUDENTS)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        scope = scope_of(user)
        school = School.objects.filter(code=options["school"]).first()
        if school is None or scope is None or scope.school_id != school.pk:
            raise CommandError(f"{options['user']} is not a member of school {options['school']}")
        try:
            with path.open("rb") as handle:
                job = import_job_create(
                    actor=user,
                    purpose=options["purpose"],
                    upload=handle,
                    filename=path.name,
                    size=path.stat().st_size,
                    enqueue=False,
                )
            if job.state == JobState.QUEUED:
                job = import_job_run(job_id=job.pk, echo=ProgressBar(self.stdout))
                self.stdout.write("")
        except ServiceError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"{job.get_state_display()}: {job.message_shown or ''}".rstrip(": "))
        for row, column, value, _code, zh, en in job.errors[:50]:
            header = job.header[column] if 0 <= column < len(job.header) else ""
            self.stdout.write(f"  row {row} {header} “{value}”: {zh} / {en}")
        if job.error_count > 50:
            self.stdout.write(f"  … {job.error_count - 50} more (see the job page)")
        if job.state == JobState.IMPORTED:
            self.stdout.write(self.style.SUCCESS(f"{job.rows_written:,} written (job {job.pk})"))
        else:
            sys.exit(1)
