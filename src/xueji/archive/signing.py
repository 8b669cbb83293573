"""The certificates' signatures: Ed25519 over a canonical form of the facts, with rotating keys.

The canonical form (printed on every certificate, so that any Ed25519 tool can check it):

    the facts as JSON, keys sorted at every level, no whitespace (separators "," and ":"),
    non-ASCII characters as themselves (not \\u escapes), encoded in UTF-8

i.e. Python's ``json.dumps(facts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
.encode("utf-8")``. The facts hold only strings, integers, lists, objects and null (no floats).
The signature is the 64-byte Ed25519 signature of those bytes, in standard base64; the key is
named by `key_id` in the facts themselves, so a signature cannot be moved to another key.

Keys: `signing_key_rotate` makes a new pair, seals its private half with the registry's field
keys (xueji.core.crypto, context SIGNING_KEY_CONTEXT) and retires the active one; retired keys
sign nothing more, and their public halves stay published (`published_keys`, the page
/certificates/keys.json) so that older certificates verify for ever.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.db import IntegrityError, transaction
from django.utils import timezone

from xueji.archive.models import SigningKey
from xueji.audit.services import audit_record
from xueji.core.crypto import decrypt, encrypt

SIGNING_KEY_CONTEXT = "archive.signing_key"
ALGORITHM = "Ed25519"


def canonical(facts: dict[str, Any]) -> bytes:
    """The bytes that are signed (see the module's docstring)."""
    return json.dumps(facts, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signing_key_rotate(*, actor: Any = None) -> SigningKey:
    """A new active key; the one active until now is retired (still published)."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    now = timezone.now()
    with transaction.atomic():
        retired = list(
            SigningKey.objects.select_for_update()
            .filter(retired_at__isnull=True)
            .values_list("key_id", flat=True)
        )
        SigningKey.objects.filter(retired_at__isnull=True).update(retired_at=now)
        key = SigningKey.objects.create(
            key_id=f"{now:%Y%m%d}-{secrets.token_hex(4)}",
            algorithm=ALGORITHM,
            public_key=base64.b64encode(_raw_public(private.public_key())).decode(),
            private_sealed=encrypt(
                base64.b64encode(raw_private).decode(), context=SIGNING_KEY_CONTEXT
            ),
        )
        audit_record(
            actor=actor,
            action="certificate.key_rotate",
            object_type="signing_key",
            detail={"key_id": key.key_id, "retired": retired},
        )
    return key


def active_key(*, actor: Any = None) -> SigningKey:
    """The key that signs now (made on first use)."""
    key = SigningKey.objects.filter(retired_at__isnull=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return signing_key_rotate(actor=actor)
    except IntegrityError:  # another process made the first one meanwhile
        return SigningKey.objects.get(retired_at__isnull=True)


def _private(key: SigningKey) -> Ed25519PrivateKey:
    return _unsealed(key.key_id, key.private_sealed)


@lru_cache(maxsize=8)
def _unsealed(key_id: str, sealed: str) -> Ed25519PrivateKey:
    """The private key, unsealed once per process and sealed value (a rotation of the field
    keys reseals it: a new value, unsealed anew)."""
    raw = base64.b64decode(decrypt(sealed, context=SIGNING_KEY_CONTEXT))
    return Ed25519PrivateKey.from_private_bytes(raw)


def sign(key: SigningKey, facts: dict[str, Any]) -> str:
    """The base64 signature of the facts' canonical form under `key`."""
    return base64.b64encode(_private(key).sign(canonical(facts))).decode()


def published_keys() -> dict[str, Any]:
    """Every public key, active and retired, as /certificates/keys.json publishes them."""
    return {
        "algorithm": ALGORITHM,
        "canonical_form": "JSON, keys sorted, separators ',' ':', UTF-8, no ASCII escaping",
        "keys": [
            {
                "key_id": key.key_id,
                "public_key": key.public_key,
                "created_at": key.created_at.isoformat(),
                "retired_at": key.retired_at.isoformat() if key.retired_at else None,
            }
            for key in SigningKey.objects.order_by("created_at")
        ],
    }


@dataclass(frozen=True)
class Checked:
    """The outcome of an offline check: `ok`, or the reason it failed."""

    ok: bool
    reason: str = ""
    key_id: str = ""


def check_signature(facts: dict[str, Any], signature: str, public_keys: dict[str, str]) -> Checked:
    """Check a signature against published keys ({key id: base64 public key}); needs no
    database. The key is the one the facts name."""
    key_id = str(facts.get("key_id") or "")
    encoded = public_keys.get(key_id)
    if encoded is None:
        return Checked(False, "unknown_key", key_id)
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded, validate=True))
        public.verify(base64.b64decode(signature, validate=True), canonical(facts))
    except (InvalidSignature, ValueError, binascii.Error):
        return Checked(False, "bad_signature", key_id)
    return Checked(True, "", key_id)


def keys_by_id(published: dict[str, Any]) -> dict[str, str]:
    """{key id: public key} of a keys.json document."""
    return {entry["key_id"]: entry["public_key"] for entry in published.get("keys", [])}


def today_iso() -> str:
    return timezone.localdate().isoformat()


def as_date(text: str | None) -> datetime.date | None:
    return None if not text else datetime.date.fromisoformat(text)
