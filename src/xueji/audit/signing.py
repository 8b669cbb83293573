"""The keys that sign the audit trail's checkpoints: held outside the database, so that whoever
can write the database cannot sign a checkpoint. Two algorithms, one per cryptographic suite
(xueji.core.suites): Ed25519 (intl) and SM2 with SM3 and the default user id (sm, through
xueji.core.sm2). XUEJI_CRYPTO_SUITE chooses which signs; every key of both verifies.

Where the signing keys come from, the first one found, per algorithm:
- Ed25519: `XUEJI_AUDIT_SIGNING_KEYS="s2:<base64 32-byte seed>,s1:<…>"`; SM2:
  `XUEJI_AUDIT_SM2_SIGNING_KEYS="m1:<base64 32-byte private key>"` (the first key signs, every
  one verifies);
- the key file (`XUEJI_KEY_FILE`, which holds the field keys too), its objects
  `"audit_signing"` (Ed25519) and `"audit_signing_sm2"` (SM2), each
  `{"active": "s2", "keys": {"s2": "<base64>", …}, "verify": {…}}`;
- in development, keys derived from SECRET_KEY (ids "dev" and "dev-sm2"), as the field keys
  are. Production refuses them (`XUEJI_AUDIT_DERIVED_KEY_ALLOWED = False` in
  config.settings_production, and the deploy check xueji_audit.E003).

A key id names one key of one algorithm (the same id under both is refused), and each checkpoint
keeps the id of the key that signed it; an SM2 signature is stored as "sm2:<base64 r||s>", an
Ed25519 one as its base64 alone (as before there were two). So a checkpoint says with which
algorithm and which key it was signed, and one signed under either suite verifies after the
other is chosen, as long as its key (or public key) is kept.

Rotation: put the new key first and keep the old one after it; once the old one no longer signs,
its private key can go and its public key (`xueji audit keys` prints them) stays in
`XUEJI_AUDIT_VERIFY_KEYS="s1:<base64 32-byte public key>"` (Ed25519) or
`XUEJI_AUDIT_SM2_VERIFY_KEYS="m1:<base64 64-byte public key x||y>"` (or the key file's
"verify"), so that the checkpoints it signed stay verifiable.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable
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

from xueji.core.crypto import configured_suite, decode_key, derived_key, key_list
from xueji.core.sm2 import PUBLIC_KEY_BYTES, SM2PrivateKey, SM2PublicKey
from xueji.core.suites import ED25519, SIGNATURE_NAMES, SM2, suite_named

DERIVED_KEY_IDS = {ED25519: "dev", SM2: "dev-sm2"}
DERIVED_KEY_ID = DERIVED_KEY_IDS[ED25519]
SM2_PREFIX = "sm2:"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class Algorithm:
    name: str
    signing_setting: str
    verify_setting: str
    key_file_object: str
    public_bytes: int
    private: Callable[[bytes], Any]  # a private key from its 32 bytes
    public: Callable[[bytes], Any]  # a public key from its bytes


def _ed25519_public_bytes(key: Any) -> bytes:
    return bytes(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


ALGORITHMS = {
    ED25519: Algorithm(
        ED25519,
        "XUEJI_AUDIT_SIGNING_KEYS",
        "XUEJI_AUDIT_VERIFY_KEYS",
        "audit_signing",
        32,
        Ed25519PrivateKey.from_private_bytes,
        Ed25519PublicKey.from_public_bytes,
    ),
    SM2: Algorithm(
        SM2,
        "XUEJI_AUDIT_SM2_SIGNING_KEYS",
        "XUEJI_AUDIT_SM2_VERIFY_KEYS",
        "audit_signing_sm2",
        PUBLIC_KEY_BYTES,
        SM2PrivateKey.from_bytes,
        SM2PublicKey.from_bytes,
    ),
}


@dataclass(frozen=True)
class VerifyKey:
    """A public key of one algorithm under its id."""

    key_id: str
    algorithm: str
    key: Any  # Ed25519PublicKey | SM2PublicKey

    def raw(self) -> bytes:
        if self.algorithm == ED25519:
            return _ed25519_public_bytes(self.key)
        return bytes(self.key.to_bytes())

    def verify(self, signature: bytes, message: bytes) -> None:
        """InvalidSignature unless `signature` is this key's over `message` (as cryptography's
        keys do)."""
        if self.algorithm == SM2:
            if not self.key.verify(signature, message):
                raise InvalidSignature()
            return
        self.key.verify(signature, message)


@dataclass(frozen=True)
class Signer:
    key_id: str
    algorithm: str
    key: Any  # Ed25519PrivateKey | SM2PrivateKey

    def sign(self, message: bytes) -> str:
        """The signature as stored: base64 for Ed25519, "sm2:" and base64 of r||s for SM2."""
        encoded = base64.b64encode(self.key.sign(message)).decode("ascii")
        return SM2_PREFIX + encoded if self.algorithm == SM2 else encoded


@dataclass(frozen=True)
class SigningKeys:
    active_id: str
    signer: Signer
    public: dict[str, VerifyKey]
    derived: bool = False

    @property
    def algorithm(self) -> str:
        return self.signer.algorithm


def _raw(text: str, what: str, length: int = 32) -> bytes:
    try:
        return decode_key(text, what, length)
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None


def _key_id(text: str) -> str:
    key_id = text.strip()
    if not _KEY_ID.match(key_id):
        raise ImproperlyConfigured(
            f"audit signing key id {key_id!r}: 1 to 32 letters, digits, '_', '.' or '-'"
        )
    return key_id


def _pairs(spec: str, what: str, length: int = 32) -> dict[str, bytes]:
    try:
        keys = key_list(spec, what, length)
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None
    return {_key_id(key_id): key for key_id, key in keys.items()}


def _public(private: Any) -> Any:
    return private.public_key()


def _made(what: str, make: Callable[[bytes], Any], raw: bytes) -> Any:
    try:
        return make(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{what}: {error}") from None


@dataclass
class _Configured:
    """One algorithm's keys as configured: private keys (in order, the active one named) and
    retired public keys."""

    private: dict[str, bytes]
    retired: dict[str, bytes]
    active: str


def _configured(
    algorithm: Algorithm, signing_spec: str, verify_spec: str, key_file: str
) -> _Configured:
    private: dict[str, bytes] = {}
    retired: dict[str, bytes] = {}
    active = ""
    if signing_spec.strip():
        private = _pairs(signing_spec, algorithm.signing_setting)
        active = next(iter(private), "")
    elif key_file:
        data: dict[str, Any] = (
            json.loads(Path(key_file).read_text()).get(algorithm.key_file_object) or {}
        )
        if data:
            private = {
                _key_id(k): _raw(v, f"{SIGNATURE_NAMES[algorithm.name]} audit signing key {k!r}")
                for k, v in (data.get("keys") or {}).items()
            }
            retired = {
                _key_id(k): _raw(
                    v,
                    f"{SIGNATURE_NAMES[algorithm.name]} audit verify key {k!r}",
                    algorithm.public_bytes,
                )
                for k, v in (data.get("verify") or {}).items()
            }
            active = str(data.get("active") or next(iter(private), ""))
    retired.update(_pairs(verify_spec, algorithm.verify_setting, algorithm.public_bytes))
    return _Configured(private, retired, active)


@lru_cache(maxsize=8)
def _build(
    suite: str,
    specs: tuple[tuple[str, str], ...],
    key_file: str,
    secret: str,
    derived_allowed: bool,
) -> SigningKeys:
    try:
        signing_algorithm = suite_named(suite).signature_algorithm
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from None
    configured = {
        name: _configured(algorithm, signing, verify, key_file)
        for (name, algorithm), (signing, verify) in zip(ALGORITHMS.items(), specs, strict=True)
    }
    anything_configured = any(found.private for found in configured.values())
    public: dict[str, VerifyKey] = {}
    signer: Signer | None = None
    derived = False
    for name, found in configured.items():
        label = SIGNATURE_NAMES[name]
        algorithm = ALGORITHMS[name]
        if not found.private:
            signs = name == signing_algorithm
            if signs and not derived_allowed:
                raise ImproperlyConfigured(
                    f"No audit signing key of {label}: the {suite} suite signs checkpoints with "
                    f"{label}; set {algorithm.signing_setting} or the key file's "
                    f'"{algorithm.key_file_object}" (a key derived from SECRET_KEY is refused '
                    "here)."
                )
            if derived_allowed and (signs or not anything_configured):
                # `secret` is in the cache's key, so that a new SECRET_KEY derives anew.
                found.active = DERIVED_KEY_IDS[name]
                if name == ED25519:
                    seed = derived_key("audit-signing")
                else:
                    seed = SM2PrivateKey.derive(derived_key("audit-signing-sm2")).to_bytes()
                found.private = {found.active: seed}
                derived = derived or signs
        if found.private and found.active not in found.private:
            raise ImproperlyConfigured(
                f"the active {label} audit signing key {found.active!r} is not among the keys"
            )
        for key_id, raw in found.retired.items():
            _add(
                public,
                VerifyKey(key_id, name, _made(f"{label} key {key_id!r}", algorithm.public, raw)),
            )
        for key_id, raw in found.private.items():
            private = _made(f"{label} key {key_id!r}", algorithm.private, raw)
            if key_id in found.retired:
                public.pop(key_id)  # a retired copy of a key still held
            _add(public, VerifyKey(key_id, name, _public(private)))
            if name == signing_algorithm and key_id == found.active:
                signer = Signer(key_id, name, private)
    if signer is None:
        raise ImproperlyConfigured(f"No audit signing key of {SIGNATURE_NAMES[signing_algorithm]}.")
    return SigningKeys(active_id=signer.key_id, signer=signer, public=public, derived=derived)


def _add(public: dict[str, VerifyKey], key: VerifyKey) -> None:
    held = public.get(key.key_id)
    if held is not None and held.algorithm != key.algorithm:
        raise ImproperlyConfigured(
            f"the audit key id {key.key_id!r} names both an {SIGNATURE_NAMES[held.algorithm]} "
            f"and an {SIGNATURE_NAMES[key.algorithm]} key: give each key an id of its own"
        )
    public[key.key_id] = key


def signing_keys() -> SigningKeys:
    """The keys as the settings now say (parsed once per configuration)."""
    key_file = os.environ.get("XUEJI_KEY_FILE", getattr(settings, "XUEJI_KEY_FILE", ""))
    specs = tuple(
        (
            str(getattr(settings, algorithm.signing_setting, "") or ""),
            str(getattr(settings, algorithm.verify_setting, "") or ""),
        )
        for algorithm in ALGORITHMS.values()
    )
    return _build(
        configured_suite(),
        specs,
        str(key_file or ""),
        str(settings.SECRET_KEY),
        bool(getattr(settings, "XUEJI_AUDIT_DERIVED_KEY_ALLOWED", True)),
    )


def sign(message: bytes) -> tuple[str, str]:
    """The active key's id and its signature of `message` (as stored)."""
    keys = signing_keys()
    return keys.active_id, keys.signer.sign(message)


def signature_algorithm(signature: str) -> str:
    """The algorithm a stored signature says it was made with."""
    return SM2 if signature.startswith(SM2_PREFIX) else ED25519


def signature_problem(key_id: str, message: bytes, signature: str) -> str:
    """Why the signature does not hold ("" when it does)."""
    public = signing_keys().public.get(key_id)
    if public is None:
        return f"it is signed with the key {key_id!r}, which is not a known audit key"
    algorithm = signature_algorithm(signature)
    if algorithm != public.algorithm:
        return (
            f"it is signed with {SIGNATURE_NAMES[algorithm]} but the key {key_id!r} is an "
            f"{SIGNATURE_NAMES[public.algorithm]} key"
        )
    try:
        public.verify(base64.b64decode(signature.removeprefix(SM2_PREFIX), validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return f"its signature does not verify with the key {key_id!r}"
    return ""


def public_key_text(key: VerifyKey) -> str:
    return base64.b64encode(key.raw()).decode("ascii")


def new_seed(algorithm: str = ED25519) -> str:
    """A fresh signing key, base64 (for `xueji audit keys --new`): an Ed25519 seed, or an SM2
    private key (a number in [1, n-2], which not every 32 random bytes are)."""
    if algorithm == SM2:
        return base64.b64encode(SM2PrivateKey.generate().to_bytes()).decode("ascii")
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
            hint="Set XUEJI_AUDIT_SIGNING_KEYS (intl) or XUEJI_AUDIT_SM2_SIGNING_KEYS (sm), or "
            '"audit_signing" / "audit_signing_sm2" in XUEJI_KEY_FILE (`xueji audit keys --new` '
            "prints a new key).",
            id="xueji_audit.E003",
        )
    ]
