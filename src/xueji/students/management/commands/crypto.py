"""`xueji crypto status`: the cryptographic suite in force, the keys held, and where every sealed
value stands (which suite and key sealed it), so that an operator sees a move through."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xueji.audit.signing import signing_keys
from xueji.core.crypto import keyring
from xueji.core.suites import SIGNATURE_NAMES
from xueji.students.sealing import sealed_values_status


class Command(BaseCommand):
    help = (
        "The cryptographic suite in force (XUEJI_CRYPTO_SUITE: intl or sm), the keys held, and "
        "every sealed column counted by the suite and key that sealed its values."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        commands.add_parser(
            "status",
            help="Show the suite in force and count the sealed values by suite and key (a scan "
            "of each sealed table).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ring = keyring()
        active = ring.active
        self.stdout.write(f"cryptographic suite in force: {active.suite.describe()}")
        for name, keys in ring.suites.items():
            role = "writes and reads" if name == active.suite.name else "reads"
            origin = "derived from SECRET_KEY: development only" if keys.derived else "configured"
            ids = ", ".join(
                f"{key_id}{' (active)' if key_id == keys.active_id else ''}" for key_id in keys.keys
            )
            self.stdout.write(
                f"  {name} suite {role}: {keys.suite.field_cipher} keys {ids}; "
                f"{keys.suite.index_function} index key ({origin})"
            )
        self.stdout.write(
            "  lookups by blind index ask for the digest of: " + ", ".join(ring.suites)
        )
        signing = signing_keys()
        verifying = ", ".join(
            f"{key_id} ({SIGNATURE_NAMES[key.algorithm]})" for key_id, key in signing.public.items()
        )
        self.stdout.write(
            f"  audit checkpoints signed with {SIGNATURE_NAMES[signing.algorithm]}, key "
            f"{signing.active_id}; verified with {verifying}"
        )
        self.stdout.write("sealed values by suite and key:")
        outside = 0
        for status in sealed_values_status():
            counts = ", ".join(
                f"{count} {suite}/{key_id}"
                for (suite, key_id), count in sorted(status.by_key.items())
            )
            unsealed = (
                f", {status.unsealed} former numbers kept without a sealed value"
                if status.unsealed
                else ""
            )
            self.stdout.write(f"  {status.label}: {counts or 'none'}{unsealed}")
            outside += status.outside(active.suite.name, active.active_id) + status.unsealed
        if outside:
            self.stdout.write(
                f"{outside} values are not under the active key {active.suite.name}/"
                f"{active.active_id}: run `xueji rotate_keys`; keep the other keys until then."
            )
        else:
            others = [
                name
                for name, keys in ring.suites.items()
                if name != active.suite.name and not keys.derived
            ]
            retire = (
                f" The {' and '.join(others)} suite's field and index keys can be removed (keep "
                "the public keys of the audit keys that signed checkpoints)."
                if others
                else ""
            )
            self.stdout.write(
                f"every sealed value is under the active key {active.suite.name}/"
                f"{active.active_id}.{retire}"
            )
