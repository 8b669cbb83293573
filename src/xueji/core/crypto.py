"""Encryption at rest for identity numbers: an AEAD for the value, a keyed hash for lookup, under
one of two suites (xueji.core.suites): `intl` (AES-256-GCM, HMAC-SHA256) or `sm` (SM4-GCM,
HMAC-SM3). XUEJI_CRYPTO_SUITE names the suite that writes; every suite whose keys are held reads.

A sealed value is "<tag>.<key id>.<base64 of nonce, ciphertext and tag>": the tag names the
suite ("v1" AES-256-GCM, the format of before suites existed; "sm1" SM4-GCM) and the key id the
key, so values of both suites and of several keys are read side by side while
`xueji rotate_keys` moves them to the active suite's active key.

Keys come from the environment or from a JSON key file (`XUEJI_KEY_FILE`), per suite:
- intl: `XUEJI_FIELD_KEYS="k2:<base64 32 bytes>,k1:<…>"` (the first one encrypts, all of them
  decrypt) and `XUEJI_INDEX_KEY` (32 bytes); in the key file "active", "keys", "index_key";
- sm: `XUEJI_SM4_FIELD_KEYS="m1:<base64 16 bytes>"` (SM4 keys are 128 bits) and
  `XUEJI_SM3_INDEX_KEY` (32 bytes); in the key file the object "sm" with the same three names.
A suite's blind-index key is stable: equal numbers give equal digests, which unique constraints
and exact lookups need. The two suites' digests of a number differ (different functions), so
during a move a lookup asks for every held suite's digest (`blind_indexes`); see
xueji.students.sealing for how a move keeps records findable and unique.

Without configured keys (development, tests) keys are derived from SECRET_KEY, for both suites;
the suite in force without keys of its own while another suite has configured ones is refused,
and production refuses derived keys altogether (see `xueji.core.checks`).

`bench_plaintext()` swaps the cipher for an identity sealer (numbers stored as they are) inside
one block, so that bench/encryption.py can measure the cost of sealing against the same service
code without it. It refuses unless XUEJI_BENCH_PLAINTEXT=1, the settings are not production's
and the database is a bench database; production's deploy check fails while the flag is set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from xueji.core.suites import (
    DEFAULT_SUITE,
    INTL,
    SM,
    SUITES,
    Aead,
    IndexMac,
    Suite,
    aead,
    suite_named,
    suite_of_tag,
)

VERSION = SUITES[INTL].token_tag  # "v1": AES-256-GCM
NONCE_BYTES = 12
INDEX_HEX_CHARS = 32  # 128 bits: no collision in a registry of billions
INDEX_KEY_BYTES = 32

PLAINTEXT_FLAG = "XUEJI_BENCH_PLAINTEXT"
PLAINTEXT_VERSION = "p0"
_plaintext: ContextVar[bool] = ContextVar("xueji_bench_plaintext", default=False)

# Where each suite's keys are configured: (field keys, index key) in the environment or the
# settings, and the key file's object holding them (None: the file's top level).
KEY_SETTINGS: dict[str, tuple[str, str, str | None]] = {
    INTL: ("XUEJI_FIELD_KEYS", "XUEJI_INDEX_KEY", None),
    SM: ("XUEJI_SM4_FIELD_KEYS", "XUEJI_SM3_INDEX_KEY", "sm"),
}


class KeyError_(Exception):
    """A value was encrypted with a key this deployment does not hold."""


@dataclass(frozen=True)
class SuiteKeys:
    """One suite's field keys (the active one encrypts) and its blind-index key."""

    suite: Suite
    active_id: str
    keys: dict[str, bytes]
    index_key: bytes
    derived: bool = False
    # Built once per key, not once per value: a cipher's key schedule and the HMAC's keyed
    # inner and outer states are most of the cost of sealing one short number.
    _ciphers: dict[str, Aead] = field(default_factory=dict, repr=False, compare=False)

    def cipher(self, key_id: str) -> Aead:
        found = self._ciphers.get(key_id)
        if found is None:
            try:
                found = self._ciphers[key_id] = aead(self.suite, self.keys[key_id])
            except KeyError:
                raise KeyError_(
                    f"no key {key_id!r} of the {self.suite.name} suite in the keyring"
                ) from None
        return found

    @cached_property
    def index_mac(self) -> IndexMac:
        """The keyed hash state, copied for each digest."""
        return IndexMac(self.suite, self.index_key)

    def index(self, value: str, context: str) -> str:
        return self.index_mac.hexdigest(f"{context}\x00{value}".encode())[:INDEX_HEX_CHARS]


@dataclass(frozen=True)
class Keyring:
    """The keys of every suite this deployment holds; `active` is the suite that writes."""

    active: SuiteKeys
    suites: dict[str, SuiteKeys]  # every suite held, the active one first

    def of(self, suite: str) -> SuiteKeys:
        try:
            return self.suites[suite]
        except KeyError:
            raise KeyError_(f"no key of the {suite} suite in the keyring") from None

    # The active suite's keys, under the names the keyring had before there were suites.
    @property
    def suite(self) -> Suite:
        return self.active.suite

    @property
    def active_id(self) -> str:
        return self.active.active_id

    @property
    def keys(self) -> dict[str, bytes]:
        return self.active.keys

    @property
    def index_key(self) -> bytes:
        return self.active.index_key

    @property
    def derived(self) -> bool:
        return self.active.derived

    def cipher(self, key_id: str) -> Aead:
        return self.active.cipher(key_id)


def decode_key(text: str, what: str = "field keys", length: int = 32) -> bytes:
    """A key of `length` bytes written in base64; ValueError naming `what` otherwise."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64") from None
    if len(key) != length:
        raise ValueError(f"{what} must be {length} bytes, base64-encoded (it is {len(key)})")
    return key


def key_list(spec: str, what: str, length: int = 32) -> dict[str, bytes]:
    """Keys written as "<id>:<base64>,<id>:<base64>" (the first is the active one), in order;
    ValueError naming `what` and the key for a malformed one."""
    keys: dict[str, bytes] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        if ":" not in item:
            raise ValueError(f"{what}: write each key as <id>:<base64>")
        key_id, value = (part.strip() for part in item.split(":", 1))
        keys[key_id] = decode_key(value, f"{what} {key_id!r}", length)
    return keys


def derived_key(label: str) -> bytes:
    """A development key derived from SECRET_KEY (production configures real keys)."""
    return hashlib.sha256(f"xueji:{label}:{settings.SECRET_KEY}".encode()).digest()


def _setting(name: str) -> str:
    return str(os.environ.get(name, getattr(settings, name, "")) or "")


def configured_suite() -> str:
    """The name XUEJI_CRYPTO_SUITE gives (the environment first, as for the keys)."""
    return _setting("XUEJI_CRYPTO_SUITE").strip() or DEFAULT_SUITE


def _key_file_keys(suite: Suite, data: dict[str, Any]) -> SuiteKeys | None:
    section = KEY_SETTINGS[suite.name][2]
    found = data if section is None else data.get(section)
    if not isinstance(found, dict) or not found.get("keys"):
        return None
    keys = {
        str(kid): decode_key(
            value, f"the key file's {suite.name} key {kid!r}", suite.field_key_bytes
        )
        for kid, value in found["keys"].items()
    }
    active = str(found.get("active") or next(iter(keys)))
    if active not in keys:
        raise ValueError(f"the key file's active {suite.name} key {active!r} is not among its keys")
    index = decode_key(
        str(found.get("index_key", "")), f"the key file's {suite.name} index_key", INDEX_KEY_BYTES
    )
    return SuiteKeys(suite, active, keys, index)


def _environment_keys(suite: Suite) -> SuiteKeys | None:
    fields_name, index_name, _section = KEY_SETTINGS[suite.name]
    spec, index = _setting(fields_name), _setting(index_name)
    if not spec.strip():
        if index.strip():
            raise ValueError(f"{index_name} is set without {fields_name}")
        return None
    keys = key_list(spec, fields_name, suite.field_key_bytes)
    if not keys:
        return None
    if not index.strip():
        raise ValueError(f"{index_name} must be set together with {fields_name}")
    return SuiteKeys(suite, next(iter(keys)), keys, decode_key(index, index_name, INDEX_KEY_BYTES))


def _derived_keys(suite: Suite) -> SuiteKeys:
    if suite.name == INTL:  # the labels of before suites, so that development data still reads
        field_key, index_key = derived_key("field"), derived_key("index")
    else:
        field_key, index_key = (
            derived_key(f"{suite.name}-field"),
            derived_key(f"{suite.name}-index"),
        )
    return SuiteKeys(
        suite, "dev", {"dev": field_key[: suite.field_key_bytes]}, index_key, derived=True
    )


def configured_keys() -> dict[str, SuiteKeys]:
    """The suites whose keys are configured (from the key file when there is one, else from the
    environment or settings); ValueError naming a malformed one."""
    key_file = _setting("XUEJI_KEY_FILE")
    found: dict[str, SuiteKeys | None]
    if key_file:
        data = json.loads(Path(key_file).read_text())
        found = {name: _key_file_keys(suite, data) for name, suite in SUITES.items()}
    else:
        found = {name: _environment_keys(suite) for name, suite in SUITES.items()}
    return {name: keys for name, keys in found.items() if keys is not None}


def _load() -> Keyring:
    active = suite_named(configured_suite())
    configured = configured_keys()
    held = dict(configured)
    if active.name not in held:
        held[active.name] = _derived_keys(active)
    if not configured:
        # Development: no key anywhere, every suite derived, so that both read and index.
        for suite in SUITES.values():
            held.setdefault(suite.name, _derived_keys(suite))
    ordered = {active.name: held[active.name]}
    ordered.update((name, keys) for name, keys in held.items() if name != active.name)
    return Keyring(active=held[active.name], suites=ordered)


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    return _load()


def reset_keyring() -> None:
    """Forget the cached keys (after the environment changed: tests, rotation)."""
    keyring.cache_clear()


# Settings whose change (a test's override) makes the cached keyring stale.
KEYRING_SETTINGS = frozenset(
    {"XUEJI_CRYPTO_SUITE", "XUEJI_KEY_FILE", "SECRET_KEY"}
    | {name for names in KEY_SETTINGS.values() for name in names[:2]}
)


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
    """Encrypt with the active suite's active key; the context (e.g. "student.id_number") is
    authenticated."""
    if _plaintext.get():
        return f"{PLAINTEXT_VERSION}..{plaintext}"
    keys = keyring().active
    nonce = os.urandom(NONCE_BYTES)
    sealed = keys.cipher(keys.active_id).encrypt(nonce, plaintext.encode(), context.encode())
    payload = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{keys.suite.token_tag}.{keys.active_id}.{payload}"


def decrypt(token: str, *, context: str) -> str:
    """Decrypt a value written by `encrypt` under either suite, with any key still held."""
    version, key_id, payload = token.split(".", 2)
    if version == PLAINTEXT_VERSION and _plaintext.get():
        return payload
    suite = suite_of_tag(version)
    raw = base64.urlsafe_b64decode(payload)
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    cipher = keyring().of(suite.name).cipher(key_id)
    return cipher.decrypt(nonce, sealed, context.encode()).decode()


def key_id_of(token: str) -> str:
    return token.split(".", 2)[1]


def suite_of(token: str) -> str:
    """The name of the suite that sealed `token`."""
    return suite_of_tag(token.split(".", 1)[0]).name


def sealed_prefix() -> str:
    """How every value sealed now begins: the active suite's tag and key id, and the dot."""
    keys = keyring().active
    return f"{keys.suite.token_tag}.{keys.active_id}."


def blind_index(value: str, *, context: str) -> str:
    """A keyed digest for exact lookup and uniqueness under the active suite; equal inputs give
    equal digests. What is written; a lookup asks for `blind_indexes`."""
    if _plaintext.get():
        return value
    return keyring().active.index(value, context)


def blind_indexes(value: str, *, context: str) -> tuple[str, ...]:
    """The value's digest under every suite held, the active suite's first: what a lookup asks
    for, so that a record whose index a suite change has not yet recomputed is still found.
    One digest when a single suite is held."""
    if _plaintext.get():
        return (value,)
    return tuple(keys.index(value, context) for keys in keyring().suites.values())
