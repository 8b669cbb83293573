"""xueji yearend promote|graduate --scope CODE [--dry-run] [--academic-year 2026] [--yes]
    [--confirm-outside-period]
xueji yearend resume RUN_ID [--confirm-outside-period] | reverse RUN_ID | status [RUN_ID]

Runs a year-end batch in this process with a progress bar on the terminal: first the dry run
(counts per school and grade, the clearing's unfinished business), then, unless --dry-run, the
run itself. Run it again after a crash: the unfinished run of the same scope resumes at the
next chunk. --user NAME acts as that account (its role and area are checked); without it the
operator acts for the system.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.core.errors import ServiceError
from xueji.yearend.models import RunKind, RunState, YearEndRun
from xueji.yearend.services import (
    CHUNK_STUDENTS,
    run_execute,
    run_plan,
    run_reverse,
    run_start,
)

BAR_WIDTH = 40


class ProgressBar:
    """[#####-----] 12/40 chunks, 240,000/800,000 students, rate, elapsed."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.started = time.perf_counter()
        self.tty = getattr(stream, "isatty", lambda: False)()

    def __call__(self, run: YearEndRun) -> None:
        elapsed = time.perf_counter() - self.started
        share = run.chunks_done / run.chunks_total if run.chunks_total else 1.0
        filled = int(BAR_WIDTH * share)
        rate = run.students_done / elapsed if elapsed else 0.0
        line = (
            f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {share:4.0%} "
            f"{run.chunks_done}/{run.chunks_total} chunks, "
            f"{run.students_done:,}/{run.students_total:,} students, {rate:,.0f}/s, {elapsed:.1f} s"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Year-end batches: promotion (升级) and graduation (毕业) of a scope, with a dry run."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="command", required=True)
        for kind in ("promote", "graduate"):
            batch = sub.add_parser(kind)
            batch.add_argument(
                "--scope",
                required=True,
                help="a 10-digit school code, a division code (44, 440300, 440304) or nation",
            )
            batch.add_argument("--academic-year", type=int, default=None, help="the year left")
            batch.add_argument("--dry-run", action="store_true", help="report only, change nothing")
            batch.add_argument("--yes", action="store_true", help="do not ask before running")
            batch.add_argument(
                "--chunk-students",
                type=int,
                default=None,
                help=f"students per chunk (default: about a sixth, at least {CHUNK_STUDENTS:,})",
            )
            batch.add_argument("--user", default=None, help="act as this account")
        for name in ("resume", "reverse"):
            one = sub.add_parser(name)
            one.add_argument("run_id")
            one.add_argument("--user", default=None)
        for parser_of_run in (
            sub.choices["promote"],
            sub.choices["graduate"],
            sub.choices["resume"],
        ):
            parser_of_run.add_argument(
                "--confirm-outside-period",
                action="store_true",
                help="plan and start the run outside the promotion period (refused otherwise, "
                "naming the period)",
            )
        status = sub.add_parser("status")
        status.add_argument("run_id", nargs="?")

    def _actor(self, options: dict[str, Any]) -> Any:
        username = options.get("user")
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no such user {username}")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            command = options["command"]
            if command in ("promote", "graduate"):
                self._batch(options, RunKind.PROMOTE if command == "promote" else RunKind.GRADUATE)
            elif command == "resume":
                self._execute(
                    YearEndRun.objects.get(pk=options["run_id"]),
                    self._actor(options),
                    outside_period_confirmed=options["confirm_outside_period"],
                )
            elif command == "reverse":
                run = run_reverse(actor=self._actor(options), run_id=options["run_id"])
                self.stdout.write(self.style.SUCCESS(f"Run {run.pk} reversed."))
            else:
                self._status(options.get("run_id"))
        except YearEndRun.DoesNotExist as error:
            raise CommandError("no such run") from error
        except ServiceError as error:
            details = error.details.get("blockers") or []
            for item in details:
                self.stderr.write(f"  {item['what']}: {item['student']} ({item['school']})")
            raise CommandError(str(error.message)) from error

    def _batch(self, options: dict[str, Any], kind: str) -> None:
        actor = self._actor(options)
        run = run_plan(
            actor=actor,
            kind=kind,
            scope=options["scope"],
            from_year=options["academic_year"],
            chunk_students=options["chunk_students"],
            outside_period_confirmed=options["confirm_outside_period"],
        )
        confirmed = options["confirm_outside_period"]
        if run.state != RunState.PLANNED:
            self.stdout.write(f"Resuming run {run.pk} ({run.get_state_display()}).")
            self._execute(run, actor, outside_period_confirmed=confirmed)
            return
        self._print_report(run)
        if options["dry_run"]:
            self.stdout.write(f"Dry run only: run {run.pk} stays planned.")
            return
        if not options["yes"] and sys.stdin.isatty():
            answer = input(f"Move {run.students_total:,} students? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                self.stdout.write("Not started.")
                return
        self._execute(run, actor, outside_period_confirmed=confirmed)

    def _execute(
        self, run: YearEndRun, actor: Any, *, outside_period_confirmed: bool = False
    ) -> None:
        if run.state in (RunState.PLANNED, RunState.FAILED):
            run = run_start(
                actor=actor,
                run_id=run.pk,
                enqueue=False,
                outside_period_confirmed=outside_period_confirmed,
            )
        bar = ProgressBar(self.stdout)
        started = time.perf_counter()
        run = run_execute(run_id=run.pk, progress=bar)
        bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Run {run.pk}: {run.get_state_display()}, {run.students_done:,} students in "
                f"{time.perf_counter() - started:.1f} s."
            )
        )

    def _print_report(self, run: YearEndRun) -> None:
        report = run.report
        self.stdout.write(
            f"Dry run {run.pk}: {run.get_kind_display()} of {run.scope_name}, "
            f"{run.from_year}-{run.from_year + 1} → {run.to_year}-{run.to_year + 1}"
        )
        for school in report.get("schools", [])[:50]:
            grades = ", ".join(
                f"{grade}: " + "/".join(f"{n} {what}" for what, n in sorted(counts.items()))
                for grade, counts in sorted(school["grades"].items(), key=lambda g: int(g[0]))
            )
            self.stdout.write(f"  {school['code']} {school['name']}: {grades}")
        more = len(report.get("schools", [])) - 50
        if more > 0:
            self.stdout.write(f"  … and {more:,} more schools")
        totals = ", ".join(f"{n:,} {what}" for what, n in sorted(report.get("totals", {}).items()))
        self.stdout.write(f"Total: {report.get('students', 0):,} students ({totals or 'none'})")
        staying = report.get("staying", {})
        if staying:
            self.stdout.write(
                "Not moved: " + ", ".join(f"{n:,} {state}" for state, n in sorted(staying.items()))
            )
        self.stdout.write(f"Chunks: {run.chunks_total}")
        if report.get("blocker_count"):
            self.stdout.write(
                self.style.WARNING(f"Unfinished business: {report['blocker_count']} items")
            )
            for item in report.get("blockers", [])[:20]:
                self.stdout.write(f"  {item['what']}: {item['student']} ({item['school']})")

    def _status(self, run_id: str | None) -> None:
        runs = (
            [YearEndRun.objects.get(pk=run_id)]
            if run_id
            else list(YearEndRun.objects.order_by("-created_at")[:20])
        )
        for run in runs:
            self.stdout.write(
                f"{run.pk} {run.kind:<8} {run.scope_name:<30} {run.from_year} "
                f"{run.state:<9} {run.chunks_done}/{run.chunks_total} chunks "
                f"{run.students_done:,}/{run.students_total:,} students"
            )
