"""Encryption at rest of what a correction request keeps of a child's identity: the ID numbers
before and after, and the evidence documents. AES-256-GCM (the `cryptography` package), the
context authenticated with the value.

The signatures are those of the registry's field encryption; the key is derived from
XUEJI_CORRECTIONS_KEY (base64, 32 bytes) or, without it, from SECRET_KEY.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = "c1"
NONCE_BYTES = 12


@lru_cache(maxsize=1)
def _key() -> bytes:
    configured = os.environ.get("XUEJI_CORRECTIONS_KEY", "")
    if configured:
        key = base64.b64decode(configured)
        if len(key) != 32:
            raise ValueError("XUEJI_CORRECTIONS_KEY is 32 bytes, base64-encoded")
        return key
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"xueji.corrections").derive(
        settings.SECRET_KEY.encode()
    )


def encrypt(plaintext: str, *, context: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key()).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    version, payload = token.split(".", 1)
    if version != VERSION:
        raise ValueError(f"unknown ciphertext version {version!r}")
    raw = base64.urlsafe_b64decode(payload)
    return AESGCM(_key()).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
