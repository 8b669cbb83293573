"""`xueji certificate verify FILE.pdf [--keys keys.json]`: check a certificate's PDF offline (the
facts and signature in its metadata, against the published public keys: a keys.json file saved
from /certificates/keys.json, or the registry's own key table without --keys).
`xueji certificate rotate-key`: a new signing key; the old one stays published."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xueji.archive.pdf.certificate import NotACertificate, certificate_lines, read_envelope
from xueji.archive.signing import check_signature, keys_by_id, published_keys, signing_key_rotate


class Command(BaseCommand):
    help = "Verify a certificate of registration (学籍证明) offline, or rotate the signing key."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        verify = commands.add_parser("verify", help="Check a certificate's PDF offline.")
        verify.add_argument("file", help="The certificate's PDF.")
        verify.add_argument(
            "--keys",
            help="The published keys (keys.json from /certificates/keys.json); default: the "
            "registry's key table.",
        )
        commands.add_parser("rotate-key", help="Make a new signing key; the old stays published.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["command"] == "rotate-key":
            key = signing_key_rotate()
            self.stdout.write(f"new signing key {key.key_id}")
            return
        path = Path(options["file"])
        try:
            content = read_envelope(path.read_bytes())
        except OSError as error:
            raise CommandError(str(error)) from None
        except NotACertificate as error:
            self.stderr.write(f"not a certificate of the registry: {error}")
            sys.exit(2)
        keys = (
            keys_by_id(json.loads(Path(options["keys"]).read_text(encoding="utf-8")))
            if options.get("keys")
            else keys_by_id(published_keys())
        )
        checked = check_signature(content["facts"], content["signature"], keys)
        for label, value in certificate_lines(content["facts"]):
            self.stdout.write(f"{label or ' '}\t{value}")
        if not checked.ok:
            self.stderr.write(f"INVALID: {checked.reason} (key {checked.key_id or '-'})")
            sys.exit(1)
        self.stdout.write(
            f"valid signature (Ed25519, key {checked.key_id}); whether it was revoked since is "
            "shown on the public page of its QR code"
        )
