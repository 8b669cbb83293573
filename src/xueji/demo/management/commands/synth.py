"""xueji synth --students N --province CODE [--seed S]: synthetic students, fast."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.core.errors import ServiceError
from xueji.demo.services import students_synthesize
from xueji.demo.synth import BATCH_SIZE


class ProgressPrinter:
    """Prints each stage, and students written with their rate, on the command line."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command
        self.started = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        write = self.command.stdout.write
        if stage == "schools":
            write(f"  {done:,} schools, {total:,} classes created ({elapsed:.1f} s)")
        elif stage == "students":
            rate = done / elapsed if elapsed else 0.0
            write(f"  {done:>11,} / {total:,} students  ({rate:,.0f}/s, {elapsed:.1f} s)")
        elif stage == "indexes":
            write(f"  building {total} indexes and keys over the loaded rows ({elapsed:.1f} s)")
        self.command.stdout.flush()


class Command(BaseCommand):
    help = "Generate N synthetic students of a province with families, schools and placements."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, required=True, help="how many students")
        parser.add_argument(
            "--province", required=True, help="province code, 2 or 6 digits (44 or 440000)"
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed (names, shapes)")
        parser.add_argument(
            "--index-mode",
            choices=["auto", "keep", "rebuild"],
            default="auto",
            help="PostgreSQL: build indexes after the rows (rebuild) or insert into them (keep)",
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="PostgreSQL: processes generating rows (default: one per CPU for large loads)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        province = str(options["province"]).strip()
        if len(province) == 2:
            province += "0000"
        self.stdout.write(f"Generating {options['students']:,} students in {province} ...")
        try:
            result = students_synthesize(
                actor=None,
                province_code=province,
                students=options["students"],
                seed=options["seed"],
                index_mode=options["index_mode"],
                batch_size=options["batch_size"],
                workers=options["workers"],
                progress=ProgressPrinter(self),
            )
        except ServiceError as error:
            raise CommandError(str(error.message)) from error
        rate = result.students / result.seconds if result.seconds else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.students:,} students, {result.family_members:,} family members, "
                f"{result.schools:,} schools, {result.classes:,} classes "
                f"in {result.seconds:.1f} s ({rate:,.0f} students/s, indexes: {result.index_mode}, "
                f"generating processes: {result.workers})"
            )
        )
        for phase, seconds in result.phases.items():
            self.stdout.write(f"  {phase:<28} {seconds:8.2f} s")
