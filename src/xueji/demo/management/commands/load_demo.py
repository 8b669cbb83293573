"""xueji load_demo: the demo province, loaded once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xueji.demo import demo
from xueji.demo.management.commands.synth import ProgressPrinter
from xueji.demo.services import demo_load


class Command(BaseCommand):
    help = "Load the demo (one province, four counties, about 40 schools, 20,000 students) once."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("Loading the demo ...")
        result = demo_load(actor=None, progress=ProgressPrinter(self))
        if result is None:
            self.stdout.write("The demo is already loaded; nothing to do.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: {result.synth.students:,} students in {result.synth.schools} "
                f"schools, {result.synth.classes} classes, {len(result.accounts)} demo accounts "
                f"(password {demo.PASSWORD}) in {result.synth.seconds:.1f} s."
            )
        )
