"""The two cryptographic suites and the one place that names their algorithms.

    suite  fields (and stored files)   blind index    audit checkpoint signatures
    intl   AES-256-GCM, 32-byte keys   HMAC-SHA256    Ed25519
    sm     SM4-GCM, 16-byte keys       HMAC-SM3       SM2 (SM3 with the default user id)

`sm` uses the national algorithms (GB/T 32907 SM4, GB/T 32905 SM3, GB/T 32918 SM2) that a
commercial-cryptography evaluation (密评, GB/T 39786) expects; `intl` is what the registry used
first. XUEJI_CRYPTO_SUITE chooses the suite that writes; both read (xueji.core.crypto): every
sealed value and every stored file names the suite that made it, every signature its algorithm.

SM4-GCM is laid out as AES-GCM is (12-byte nonce, the 16-byte tag after the ciphertext), as RFC
8998 uses it, so one AEAD interface (`aead`) serves both.
"""

from __future__ import annotations

import hashlib
import hmac as std_hmac
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

INTL = "intl"
SM = "sm"
DEFAULT_SUITE = INTL
TAG_BYTES = 16


@dataclass(frozen=True)
class Suite:
    name: str
    # The first part of a sealed value ("<tag>.<key id>.<base64>"): "v1" is the format sealed
    # values had before there were suites, kept so that they read as they are.
    token_tag: str
    # What a stored file's header names (xueji.core.filecrypt).
    file_suite: str
    field_key_bytes: int
    field_cipher: str
    index_function: str
    signature_algorithm: str  # xueji.audit.signing's names

    def describe(self) -> str:
        return (
            f"{self.name} ({self.field_cipher} fields, {self.index_function} blind index, "
            f"{SIGNATURE_NAMES[self.signature_algorithm]} signatures)"
        )


ED25519 = "ed25519"
SM2 = "sm2"
SIGNATURE_NAMES = {ED25519: "Ed25519", SM2: "SM2"}

SUITES: dict[str, Suite] = {
    INTL: Suite(INTL, "v1", "aes256gcm", 32, "AES-256-GCM", "HMAC-SHA256", ED25519),
    SM: Suite(SM, "sm1", "sm4gcm", 16, "SM4-GCM", "HMAC-SM3", SM2),
}
_BY_TAG = {suite.token_tag: suite for suite in SUITES.values()}
_BY_FILE_SUITE = {suite.file_suite: suite for suite in SUITES.values()}


def suite_named(name: str) -> Suite:
    """The suite called `name`; ValueError naming the choices otherwise."""
    try:
        return SUITES[name.strip()]
    except KeyError:
        raise ValueError(
            f"XUEJI_CRYPTO_SUITE {name!r} is not a suite: choose {' or '.join(SUITES)}"
        ) from None


def suite_of_tag(tag: str) -> Suite:
    try:
        return _BY_TAG[tag]
    except KeyError:
        raise ValueError(f"unknown ciphertext version {tag!r}") from None


def suite_of_file(file_suite: str) -> Suite:
    try:
        return _BY_FILE_SUITE[file_suite]
    except KeyError:
        raise ValueError(f"unknown cipher suite {file_suite!r}") from None


# ---- the AEAD ----------------------------------------------------------------------------------


class Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


class SM4GCM:
    """SM4 in GCM mode with AESGCM's interface: the 16-byte tag follows the ciphertext and a
    value that does not authenticate raises InvalidTag."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise ValueError("an SM4 key is 16 bytes")
        self._algorithm = algorithms.SM4(key)

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        encryptor = Cipher(self._algorithm, modes.GCM(nonce)).encryptor()
        if associated_data:
            encryptor.authenticate_additional_data(associated_data)
        sealed = encryptor.update(data) + encryptor.finalize()
        return sealed + encryptor.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        if len(data) < TAG_BYTES:
            raise InvalidTag()
        sealed, tag = data[:-TAG_BYTES], data[-TAG_BYTES:]
        decryptor = Cipher(self._algorithm, modes.GCM(nonce, tag)).decryptor()
        if associated_data:
            decryptor.authenticate_additional_data(associated_data)
        return decryptor.update(sealed) + decryptor.finalize()


def aead(suite: Suite, key: bytes) -> Aead:
    """The suite's AEAD under `key`."""
    if suite.name == INTL:
        return AESGCM(key)
    return SM4GCM(key)


# ---- the blind index's keyed hash --------------------------------------------------------------


class IndexMac:
    """The keyed hash of a suite's blind index, its key schedule done once and copied for each
    digest."""

    def __init__(self, suite: Suite, key: bytes) -> None:
        self.suite = suite
        if suite.name == INTL:
            self._std = std_hmac.new(key, digestmod=hashlib.sha256)
        else:
            self._sm3 = crypto_hmac.HMAC(key, hashes.SM3())

    def hexdigest(self, data: bytes) -> str:
        if self.suite.name == INTL:
            state = self._std.copy()
            state.update(data)
            return state.hexdigest()
        sm3 = self._sm3.copy()
        sm3.update(data)
        return sm3.finalize().hex()


def sm3_digest(data: bytes) -> bytes:
    """SM3 (GB/T 32905) of `data`."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()
