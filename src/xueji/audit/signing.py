"""The Ed25519 keys that sign the audit trail's checkpoints: held outside the database, so that
whoever can write the database cannot sign a checkpoint.

Where the signing keys come from, the first one found:
- `XUEJI_AUDIT_SIGNING_KEYS="s2:<base64 32-byte seed>,s1:<…>"` (from the environment): the first
  key signs, every one verifies;
- the key file (`XUEJI_KEY_FILE`, which holds the field keys too), its object
  `"audit_signing": {"active": "s2", "keys": {"s2": "<base64 seed>", …}, "verify": {…}}`;
- in development, a key derived from SECRET_KEY (id "dev"), as the field keys are. Production
  refuses it (`XUEJI_AUDIT_DERIVED_KEY_ALLOWED = False` in config.settings_production, and the
  deploy check xueji_audit.E003).

Rotation: put the new key first and keep the old one after it; once the old one no longer signs,
its seed can go and its public key (`xueji audit keys` prints them) stays in
`XUEJI_AUDIT_VERIFY_KEYS="s1:<base64 32-byte public key>"` (or the key file's "verify"), so that
the checkpoints it signed stay verifiable.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from xueji.core.crypto import decode_key, derived_key, key_list

DERIVED_KEY_ID = "dev"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class SigningKeys:
    active_id: str
    signer: Ed25519PrivateKey
    public: dict[str, Ed25519PublicKey]
    derived: bool = False


def _raw(text: str, what: str) -> bytes:
    try:
        return decode_key(text, what)
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None


def _key_id(text: str) -> str:
    key_id = text.strip()
    if not _KEY_ID.match(key_id):
        raise ImproperlyConfigured(
            f"audit signing key id {key_id!r}: 1 to 32 letters, digits, '_', '.' or '-'"
        )
    return key_id


def _pairs(spec: str, what: str) -> dict[str, bytes]:
    try:
        keys = key_list(spec, what)
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None
    return {_key_id(key_id): key for key_id, key in keys.items()}


def _public(private: Ed25519PrivateKey) -> Ed25519PublicKey:
    return private.public_key()


@lru_cache(maxsize=4)
def _build(
    signing_spec: str, verify_spec: str, key_file: str, secret: str, derived_allowed: bool
) -> SigningKeys:
    seeds: dict[str, bytes] = {}
    retired: dict[str, bytes] = {}
    active = ""
    if signing_spec.strip():
        seeds = _pairs(signing_spec, "XUEJI_AUDIT_SIGNING_KEYS")
        active = next(iter(seeds), "")
    elif key_file:
        data: dict[str, Any] = json.loads(Path(key_file).read_text()).get("audit_signing") or {}
        if data:
            seeds = {
                _key_id(k): _raw(v, f"audit signing key {k!r}")
                for k, v in (data.get("keys") or {}).items()
            }
            retired = {
                _key_id(k): _raw(v, f"audit verify key {k!r}")
                for k, v in (data.get("verify") or {}).items()
            }
            active = str(data.get("active") or next(iter(seeds), ""))
    retired.update(_pairs(verify_spec, "XUEJI_AUDIT_VERIFY_KEYS"))
    derived = not seeds
    if derived:
        if not derived_allowed:
            raise ImproperlyConfigured(
                "No audit signing key: set XUEJI_AUDIT_SIGNING_KEYS or the key file's "
                '"audit_signing" (a key derived from SECRET_KEY is refused here).'
            )
        active = DERIVED_KEY_ID
        # `secret` is in the cache's key, so that a new SECRET_KEY derives anew.
        seeds = {active: derived_key("audit-signing")}
    if active not in seeds:
        raise ImproperlyConfigured(f"the active audit signing key {active!r} is not among the keys")
    private = {key_id: Ed25519PrivateKey.from_private_bytes(seed) for key_id, seed in seeds.items()}
    public = {key_id: Ed25519PublicKey.from_public_bytes(raw) for key_id, raw in retired.items()}
    public.update({key_id: _public(key) for key_id, key in private.items()})
    return SigningKeys(active_id=active, signer=private[active], public=public, derived=derived)


def signing_keys() -> SigningKeys:
    """The keys as the settings now say (parsed once per configuration)."""
    key_file = os.environ.get("XUEJI_KEY_FILE", getattr(settings, "XUEJI_KEY_FILE", ""))
    return _build(
        str(getattr(settings, "XUEJI_AUDIT_SIGNING_KEYS", "") or ""),
        str(getattr(settings, "XUEJI_AUDIT_VERIFY_KEYS", "") or ""),
        str(key_file or ""),
        str(settings.SECRET_KEY),
        bool(getattr(settings, "XUEJI_AUDIT_DERIVED_KEY_ALLOWED", True)),
    )


def sign(message: bytes) -> tuple[str, str]:
    """The active key's id and its signature of `message` (base64)."""
    keys = signing_keys()
    return keys.active_id, base64.b64encode(keys.signer.sign(message)).decode("ascii")


def signature_problem(key_id: str, message: bytes, signature: str) -> str:
    """Why the signature does not hold ("" when it does)."""
    public = signing_keys().public.get(key_id)
    if public is None:
        return f"it is signed with the key {key_id!r}, which is not a known audit key"
    try:
        public.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return f"its signature does not verify with the key {key_id!r}"
    return ""


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def new_seed() -> str:
    """A fresh signing key's seed, base64 (for `xueji audit keys --new`)."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


@register(deploy=True)
def signing_keys_configured(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Production signs checkpoints with configured keys, not one derived from SECRET_KEY
    (registered on import: xueji.audit.apps imports the checks, which import the services)."""
    try:
        keys = signing_keys()
    except (ImproperlyConfigured, OSError, ValueError) as refused:
        problem = str(refused)
    else:
        if settings.DEBUG or not keys.derived:
            return []
        problem = "Audit checkpoints would be signed with a key derived from SECRET_KEY."
    return [
        Error(
            problem,
            hint='Set XUEJI_AUDIT_SIGNING_KEYS, or "audit_signing" in XUEJI_KEY_FILE '
            "(`xueji audit keys --new` prints a new key's seed).",
            id="xueji_audit.E003",
        )
    ]
