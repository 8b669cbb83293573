"""The audit trail's command: `xueji audit verify` checks the chains, the signed checkpoints and the
witness; `xueji audit seal` signs a checkpoint (once, or every N seconds until stopped, and once
more then); `xueji audit purge` applies the retention period; `xueji audit keys` shows the signing
keys' public halves."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError, connections

from xueji.audit.checkpoints import (
    SealResult,
    audit_checkpoint_seal,
    checkpoint_signers,
    witness_catch_up,
)
from xueji.audit.integrity import DEFAULT_BATCH, chain_verify, describe
from xueji.audit.services import audit_purge, retention_days
from xueji.audit.signing import ALGORITHMS, DERIVED_KEY_IDS, new_seed, public_key_text, signing_keys
from xueji.core.crypto import keyring
from xueji.core.suites import ED25519, SIGNATURE_NAMES


class Command(BaseCommand):
    help = (
        "The audit trail: verify its chains and signed checkpoints, seal a checkpoint, purge "
        "entries past the retention period, or show the signing keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        verify = commands.add_parser(
            "verify",
            help="Check every chain, checkpoint and the witness file; exit 1 naming each "
            "chain and entry edited, deleted, inserted or missing.",
        )
        verify.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
        seal = commands.add_parser(
            "seal",
            help="Seal the chains' heads into a signed checkpoint; with --every, keep sealing "
            "(XUEJI_AUDIT_CHECKPOINT_SECONDS when no number is given) and seal once more when "
            "stopped (SIGTERM, SIGINT).",
        )
        seal.add_argument("--every", type=int, nargs="?", const=0, default=None, metavar="N")
        commands.add_parser(
            "purge",
            help="Remove the entries sealed by the latest checkpoint older than "
            "XUEJI_AUDIT_RETENTION_DAYS, then seal.",
        )
        keys = commands.add_parser("keys", help="Print the audit signing keys' public keys.")
        keys.add_argument("--new", action="store_true", help="Print a new key's seed instead.")
        keys.add_argument(
            "--algorithm",
            choices=sorted(ALGORITHMS),
            default=ED25519,
            help="With --new: the new key's algorithm (ed25519 for the intl suite, sm2 for sm).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        subcommand = options["subcommand"]
        if subcommand == "verify":
            self._verify(options["batch_size"])
        elif subcommand == "seal":
            self._seal(options["every"])
        elif subcommand == "purge":
            self._purge()
        else:
            self._keys(options["new"], options["algorithm"])

    def _verify(self, batch_size: int) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        result = chain_verify(batch_size=batch_size)
        latest = result.latest
        counts = (
            f"{len(result.chains)} chains, {result.entries} entries, "
            f"{result.checkpoints} checkpoints"
            + ("" if latest is None else f" (latest #{latest.number}, root {latest.root})")
        )
        if not result.ok:
            problems = "\n".join(f"  {problem}" for problem in result.problems)
            raise CommandError(
                f"audit trail BROKEN: {len(result.problems)} problems ({counts}; "
                f"{result.checked} entries verified):\n{problems}"
            )
        if not result.chains and latest is None:
            self.stdout.write("audit trail intact: no entries yet.")
            self._suite()
            return
        self.stdout.write(f"audit trail intact: {counts}.")
        for line in describe(result):
            self.stdout.write(line)
        if result.witness:
            self.stdout.write(f"  {result.witness}")
        for signed in checkpoint_signers():
            self.stdout.write(
                f"  checkpoints #{signed.first} to #{signed.last} ({signed.count}): signed with "
                f"{SIGNATURE_NAMES[signed.algorithm]}, key {signed.key_id}"
            )
        self._suite()

    def _suite(self) -> None:
        keys = signing_keys()
        self.stdout.write(
            f"cryptographic suite in force: {keyring().suite.describe()}; new checkpoints are "
            f"signed with {SIGNATURE_NAMES[keys.algorithm]}, key {keys.active_id}."
        )

    def _report(self, result: SealResult) -> None:
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        if result.checkpoint is None:
            self.stdout.write(f"no head moved: nothing to seal ({len(result.heads)} chains).")
            return
        checkpoint = result.checkpoint
        self.stdout.write(
            f"sealed checkpoint #{checkpoint.number}: {checkpoint.tree_size} chains "
            f"({result.moved} moved), root {checkpoint.root}, key {checkpoint.key_id}."
        )

    def _seal(self, every: int | None) -> None:
        self._report(audit_checkpoint_seal())
        witness_catch_up()
        if every is None:
            return
        seconds = every or int(getattr(settings, "XUEJI_AUDIT_CHECKPOINT_SECONDS", 60))
        if seconds < 1:
            raise CommandError("--every must be at least 1 second")
        stop = threading.Event()

        def stopped(number: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stop.wait(seconds):
                self._seal_round()
            # Stopped: seal what was written since the last checkpoint before going.
            self._seal_round()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _seal_round(self) -> None:
        """One tick of the loop. The database going away (a restart, a failover) must not end
        the sealer: a node's PostgreSQL restarts in production too, and a dead sealer signs no
        more checkpoints until someone notices. The tick is skipped, the connection dropped, and
        the next tick seals everything written meanwhile."""
        try:
            self._report(audit_checkpoint_seal())
        except (OperationalError, InterfaceError) as error:
            self.stderr.write(f"database unavailable, sealing at the next tick: {error}")
            connections.close_all()

    def _purge(self) -> None:
        try:
            purge = audit_purge(actor=None)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if purge is None:
            self.stdout.write(
                f"nothing to purge: no checkpoint older than {retention_days()} days that a "
                "purge has not gone through yet."
            )
            return
        self.stdout.write(
            f"purged {purge.purged} entries of {purge.chains} chains, sealed by checkpoint "
            f"#{purge.checkpoint} ({purge.sealed_at:%Y-%m-%d}); each chain now starts after "
            "the head that checkpoint sealed."
        )
        self._report(audit_checkpoint_seal())

    def _keys(self, new: bool, algorithm: str) -> None:
        if new:
            self.stdout.write(new_seed(algorithm))
            return
        keys = signing_keys()
        for key_id, public in keys.public.items():
            role = "signs" if key_id == keys.active_id else "verifies"
            derived = (
                " (derived from SECRET_KEY: development only)"
                if key_id in DERIVED_KEY_IDS.values()
                else ""
            )
            self.stdout.write(
                f"{key_id}:{public_key_text(public)}  {SIGNATURE_NAMES[public.algorithm]}, "
                f"{role}{derived}"
            )
