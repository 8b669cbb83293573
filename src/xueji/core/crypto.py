"""Encryption at rest for identity numbers: AES-256-GCM for the value, HMAC-SHA256 for lookup.

Keys come from the environment (`XUEJI_FIELD_KEYS="k2:<base64>,k1:<base64>"`, the first one
encrypts, all of them decrypt) or from a JSON key file (`XUEJI_KEY_FILE`), so a new key can be
introduced, data re-encrypted in the background (`xueji rotate_keys`) and the old key retired
without downtime. The blind-index key (`XUEJI_INDEX_KEY`) is separate and stable: it makes equal
numbers give equal digests, which is what unique constraints and exact lookups need.

Without configured keys (development, tests) keys are derived from SECRET_KEY; production
settings refuse to start that way (see `xueji.core.checks`).

`bench_plaintext()` swaps the cipher for an identity sealer (numbers stored as they are) inside
one block, so that bench/encryption.py can measure the cost of sealing against the same service
code without it. It refuses unless XUEJI_BENCH_PLAINTEXT=1, the settings are not production's
and the database is a bench database; production's deploy check fails while the flag is set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

VERSION = "v1"
NONCE_BYTES = 12
INDEX_HEX_CHARS = 32  # 128 bits: no collision in a registry of billions

PLAINTEXT_FLAG = "XUEJI_BENCH_PLAINTEXT"
PLAINTEXT_VERSION = "p0"
_plaintext: ContextVar[bool] = ContextVar("xueji_bench_plaintext", default=False)


class KeyError_(Exception):
    """A value was encrypted with a key this deployment does not hold."""


@dataclass(frozen=True)
class Keyring:
    active_id: str
    keys: dict[str, bytes]
    index_key: bytes
    derived: bool = False
    # Built once per key, not once per value: a cipher's key schedule and the HMAC's keyed
    # inner and outer states are most of the cost of sealing one short number.
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    def cipher(self, key_id: str) -> AESGCM:
        found = self._ciphers.get(key_id)
        if found is None:
            try:
                found = self._ciphers[key_id] = AESGCM(self.keys[key_id])
            except KeyError:
                raise KeyError_(f"no key {key_id!r} in the keyring") from None
        return found

    @cached_property
    def index_mac(self) -> hmac.HMAC:
        """The keyed HMAC state, copied for each digest."""
        return hmac.new(self.index_key, digestmod=hashlib.sha256)


def decode_key(text: str, what: str = "field keys") -> bytes:
    """A 32-byte key written in base64; ValueError naming `what` otherwise."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64") from None
    if len(key) != 32:
        raise ValueError(f"{what} must be 32 bytes, base64-encoded")
    return key


def key_list(spec: str, what: str) -> dict[str, bytes]:
    """Keys written as "<id>:<base64>,<id>:<base64>" (the first is the active one), in order;
    ValueError naming `what` and the key for a malformed one."""
    keys: dict[str, bytes] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        if ":" not in item:
            raise ValueError(f"{what}: write each key as <id>:<base64>")
        key_id, value = (part.strip() for part in item.split(":", 1))
        keys[key_id] = decode_key(value, f"{what} {key_id!r}")
    return keys


def derived_key(label: str) -> bytes:
    """A development key derived from SECRET_KEY (production configures real keys)."""
    return hashlib.sha256(f"xueji:{label}:{settings.SECRET_KEY}".encode()).digest()


def _load() -> Keyring:
    key_file = os.environ.get("XUEJI_KEY_FILE", getattr(settings, "XUEJI_KEY_FILE", ""))
    if key_file:
        data = json.loads(Path(key_file).read_text())
        keys = {kid: decode_key(value) for kid, value in data["keys"].items()}
        return Keyring(data["active"], keys, decode_key(data["index_key"], "XUEJI_INDEX_KEY"))
    spec = os.environ.get("XUEJI_FIELD_KEYS", getattr(settings, "XUEJI_FIELD_KEYS", ""))
    index = os.environ.get("XUEJI_INDEX_KEY", getattr(settings, "XUEJI_INDEX_KEY", ""))
    if spec:
        keys = key_list(spec, "XUEJI_FIELD_KEYS")
        if not index:
            raise ValueError("XUEJI_INDEX_KEY must be set together with XUEJI_FIELD_KEYS")
        return Keyring(next(iter(keys)), keys, decode_key(index, "XUEJI_INDEX_KEY"))
    return Keyring("dev", {"dev": derived_key("field")}, derived_key("index"), derived=True)


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    return _load()


def reset_keyring() -> None:
    """Forget the cached keys (after the environment changed: tests, rotation)."""
    keyring.cache_clear()


def plaintext_refusal(environ: Mapping[str, str], settings_module: str, database: str) -> str:
    """Why the bench's plaintext sealer may not be used here ("" when it may)."""
    if environ.get(PLAINTEXT_FLAG) != "1":
        return f"{PLAINTEXT_FLAG} is not set to 1"
    if "production" in settings_module:
        return f"the settings are production's ({settings_module})"
    if "bench" not in database:
        return f"the database {database!r} is not a bench database"
    return ""


@contextmanager
def bench_plaintext() -> Iterator[None]:
    """Store numbers unsealed inside this block: bench/encryption.py's baseline, nothing else."""
    refusal = plaintext_refusal(
        os.environ,
        str(getattr(settings, "SETTINGS_MODULE", "") or ""),
        str(connection.settings_dict.get("NAME") or ""),
    )
    if refusal:
        raise ImproperlyConfigured(f"plaintext sealing refused: {refusal}")
    token = _plaintext.set(True)
    try:
        yield
    finally:
        _plaintext.reset(token)


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt with the active key; the context (e.g. "student.id_number") is authenticated."""
    if _plaintext.get():
        return f"{PLAINTEXT_VERSION}..{plaintext}"
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.cipher(ring.active_id).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{VERSION}.{ring.active_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    """Decrypt a value written by `encrypt` with any key still in the keyring."""
    version, key_id, payload = token.split(".", 2)
    if version == PLAINTEXT_VERSION and _plaintext.get():
        return payload
    if version != VERSION:
        raise ValueError(f"unknown ciphertext version {version!r}")
    raw = base64.urlsafe_b64decode(payload)
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    return keyring().cipher(key_id).decrypt(nonce, sealed, context.encode()).decode()


def key_id_of(token: str) -> str:
    return token.split(".", 2)[1]


def blind_index(value: str, *, context: str) -> str:
    """A keyed digest for exact lookup and uniqueness; equal inputs give equal digests."""
    if _plaintext.get():
        return value
    digest = keyring().index_mac.copy()
    digest.update(f"{context}\x00{value}".encode())
    return digest.hexdigest()[:INDEX_HEX_CHARS]
