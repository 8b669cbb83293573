"""`xueji audit verify` checks the hash chain; `xueji audit purge` applies the retention period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.audit.integrity import DEFAULT_BATCH, chain_verify
from xueji.audit.services import audit_purge, retention_days


class Command(BaseCommand):
    help = "The audit trail: verify its hash chain, or purge entries past the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        verify = commands.add_parser(
            "verify",
            help="Walk the chain; exit 1 naming the first entry edited, deleted or missing.",
        )
        verify.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
        commands.add_parser(
            "purge",
            help="Remove entries older than XUEJI_AUDIT_RETENTION_DAYS, leaving a checkpoint.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self._verify(options["batch_size"])
        else:
            self._purge()

    def _verify(self, batch_size: int) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        result = chain_verify(batch_size=batch_size)
        if not result.ok:
            raise CommandError(
                f"audit trail BROKEN: {result.problem} "
                f"({result.checked} entries verified before it)."
            )
        if result.checked == 0:
            self.stdout.write("audit trail intact: no entries yet.")
            return
        self.stdout.write(
            f"audit trail intact: {result.checked} entries, #{result.first_seq} to "
            f"#{result.last_seq}; head hash {result.head_hash}"
        )

    def _purge(self) -> None:
        try:
            checkpoint = audit_purge(actor=None)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if checkpoint is None:
            self.stdout.write(f"nothing older than {retention_days()} days to purge.")
            return
        self.stdout.write(
            f"purged {checkpoint.purged} entries older than {checkpoint.cutoff:%Y-%m-%d}; "
            f"the chain now starts at #{checkpoint.first_seq}."
        )
