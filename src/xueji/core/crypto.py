"""Encryption at rest for identity numbers: AES-256-GCM for the value, HMAC-SHA256 for lookup.

Keys come from the environment (`XUEJI_FIELD_KEYS="k2:<base64>,k1:<base64>"`, the first one
encrypts, all of them decrypt) or from a JSON key file (`XUEJI_KEY_FILE`), so a new key can be
introduced, data re-encrypted in the background (`xueji rotate_keys`) and the old key retired
without downtime. The blind-index key (`XUEJI_INDEX_KEY`) is separate and stable: it makes equal
numbers give equal digests, which is what unique constraints and exact lookups need.

Without configured keys (development, tests) keys are derived from SECRET_KEY; production
settings refuse to start that way (see `xueji.core.checks`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = "v1"
NONCE_BYTES = 12
INDEX_HEX_CHARS = 32  # 128 bits: no collision in a registry of billions


class KeyError_(Exception):
    """A value was encrypted with a key this deployment does not hold."""


@dataclass(frozen=True)
class Keyring:
    active_id: str
    keys: dict[str, bytes]
    index_key: bytes
    derived: bool = False

    def cipher(self, key_id: str) -> AESGCM:
        try:
            return AESGCM(self.keys[key_id])
        except KeyError:
            raise KeyError_(f"no key {key_id!r} in the keyring") from None


def _decode_key(text: str) -> bytes:
    key = base64.b64decode(text.strip())
    if len(key) != 32:
        raise ValueError("field keys are 32 bytes (AES-256), base64-encoded")
    return key


def _derive(label: str) -> bytes:
    return hashlib.sha256(f"xueji:{label}:{settings.SECRET_KEY}".encode()).digest()


def _load() -> Keyring:
    key_file = os.environ.get("XUEJI_KEY_FILE", getattr(settings, "XUEJI_KEY_FILE", ""))
    if key_file:
        data = json.loads(Path(key_file).read_text())
        keys = {kid: _decode_key(value) for kid, value in data["keys"].items()}
        return Keyring(data["active"], keys, _decode_key(data["index_key"]))
    spec = os.environ.get("XUEJI_FIELD_KEYS", getattr(settings, "XUEJI_FIELD_KEYS", ""))
    index = os.environ.get("XUEJI_INDEX_KEY", getattr(settings, "XUEJI_INDEX_KEY", ""))
    if spec:
        pairs = [item.split(":", 1) for item in spec.split(",") if item.strip()]
        keys = {kid.strip(): _decode_key(value) for kid, value in pairs}
        if not index:
            raise ValueError("XUEJI_INDEX_KEY must be set together with XUEJI_FIELD_KEYS")
        return Keyring(pairs[0][0].strip(), keys, _decode_key(index))
    return Keyring("dev", {"dev": _derive("field")}, _derive("index"), derived=True)


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    return _load()


def reset_keyring() -> None:
    """Forget the cached keys (after the environment changed: tests, rotation)."""
    keyring.cache_clear()


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt with the active key; the context (e.g. "student.id_number") is authenticated."""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.cipher(ring.active_id).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{VERSION}.{ring.active_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    """Decrypt a value written by `encrypt` with any key still in the keyring."""
    version, key_id, payload = token.split(".", 2)
    if version != VERSION:
        raise ValueError(f"unknown ciphertext version {version!r}")
    raw = base64.urlsafe_b64decode(payload)
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    return keyring().cipher(key_id).decrypt(nonce, sealed, context.encode()).decode()


def key_id_of(token: str) -> str:
    return token.split(".", 2)[1]


def blind_index(value: str, *, context: str) -> str:
    """A keyed digest for exact lookup and uniqueness; equal inputs give equal digests."""
    digest = hmac.new(keyring().index_key, f"{context}\x00{value}".encode(), hashlib.sha256)
    return digest.hexdigest()[:INDEX_HEX_CHARS]
