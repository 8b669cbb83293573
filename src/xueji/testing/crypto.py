"""Tests that switch the cryptographic suite: configured keys of each suite, chosen as the
environment chooses them in production (XUEJI_CRYPTO_SUITE, XUEJI_FIELD_KEYS, …)."""

from __future__ import annotations

import base64
import os
from typing import Any

from xueji.core import crypto


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


class Suites:
    """Fresh keys of both suites for one test; `use` makes one of them write. A test's fixture
    makes it from pytest's monkeypatch, which puts the environment back afterwards (the keyring
    is read again from it: `use` and the settings' change signal reset it)."""

    def __init__(self, monkeypatch: Any) -> None:
        self.monkeypatch = monkeypatch
        self.intl_field = b64(os.urandom(32))
        self.intl_index = b64(os.urandom(32))
        self.sm_field = b64(os.urandom(16))
        self.sm_index = b64(os.urandom(32))

    def use(self, suite: str, *, intl: bool = True, sm: bool = True) -> None:
        """`suite` writes; the suites named hold configured keys (and so read and index)."""
        held = {
            "XUEJI_FIELD_KEYS": f"k1:{self.intl_field}" if intl else "",
            "XUEJI_INDEX_KEY": self.intl_index if intl else "",
            "XUEJI_SM4_FIELD_KEYS": f"m1:{self.sm_field}" if sm else "",
            "XUEJI_SM3_INDEX_KEY": self.sm_index if sm else "",
            "XUEJI_CRYPTO_SUITE": suite,
        }
        for name, value in held.items():
            self.monkeypatch.setenv(name, value)
        crypto.reset_keyring()
