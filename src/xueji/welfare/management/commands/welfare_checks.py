"""xueji welfare_checks [--term ID] [--enqueue]

Refreshes the consistency checks of the term (default: the current one) for the whole registry,
in this process, or, with --enqueue, as a background task for `xueji db_worker` (what a nightly
cron entry does: `0 2 * * * xueji welfare_checks --enqueue`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.welfare.checks import checks_run
from xueji.welfare.selectors import current_term, term_of
from xueji.welfare.tasks import welfare_checks_task


class Command(BaseCommand):
    help = "Refresh the welfare consistency checks of a term (nightly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--term", type=int, default=None, help="the term's id")
        parser.add_argument("--enqueue", action="store_true", help="run it in the background")

    def handle(self, *args: Any, **options: Any) -> None:
        term = term_of(options["term"]) if options["term"] else current_term()
        if term is None:
            raise CommandError("No such term.")
        if options["enqueue"]:
            result = welfare_checks_task.enqueue(term.pk)
            self.stdout.write(f"enqueued {result.id} for {term}")
            return
        run = checks_run(actor=None, scope=None, term=term)
        self.stdout.write(f"{term}: {run.findings} findings")
