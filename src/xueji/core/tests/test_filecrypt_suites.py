"""Stored files follow the suite in force: sealed with SM4-GCM under sm (the header says
"sm4gcm"), and a file of either suite read back after the other is chosen."""

import base64
import os

import pytest

from xueji.core import crypto, filecrypt
from xueji.core.filecrypt import CHUNK_BYTES, FileTampered
from xueji.core.suites import SM4GCM
from xueji.testing.crypto import Suites

CONTENT = os.urandom(2 * CHUNK_BYTES + 5)


@pytest.fixture
def suites(monkeypatch):
    yield Suites(monkeypatch)
    crypto.reset_keyring()


def _seal(path, data: bytes = CONTENT) -> None:  # type: ignore[no-untyped-def]
    with filecrypt.encrypted_file(path, context="test.file") as out:
        out.write(data)


def _open(path) -> bytes:  # type: ignore[no-untyped-def]
    with filecrypt.open_encrypted(path, context="test.file") as handle:
        return handle.read()


def test_under_sm_a_file_is_sealed_with_sm4_gcm_and_says_so(suites, tmp_path):
    suites.use("sm")
    path = tmp_path / "f"
    _seal(path)
    head = path.read_bytes()
    assert head[5] == len(b"sm4gcm") and head[6:12] == b"sm4gcm"
    assert head[12] == len(b"m1") and head[13:15] == b"m1"
    with filecrypt.DecryptingReader(path, context="test.file") as reader:
        assert (reader.suite, reader.key_id) == ("sm4gcm", "m1")
    assert _open(path) == CONTENT
    # The first chunk is SM4-GCM under the sm key, the header and context as associated data.
    start = 15 + 4 + filecrypt.NONCE_PREFIX_BYTES
    prefix = head[15 + 4 : start]
    sealed = head[start : start + CHUNK_BYTES + filecrypt.TAG_BYTES]
    cipher = SM4GCM(base64.b64decode(suites.sm_field))
    nonce = prefix + (0).to_bytes(4, "big")
    assert cipher.decrypt(nonce, sealed, head[:start] + b"test.file") == CONTENT[:CHUNK_BYTES]


def test_files_of_both_suites_read_after_a_switch_and_not_without_their_key(suites, tmp_path):
    suites.use("intl")
    under_intl = tmp_path / "intl"
    _seal(under_intl)
    suites.use("sm")
    under_sm = tmp_path / "sm"
    _seal(under_sm)
    assert _open(under_intl) == CONTENT == _open(under_sm)
    suites.use("intl")
    assert _open(under_sm) == CONTENT
    suites.use("intl", sm=False)
    with pytest.raises(crypto.KeyError_, match="no key 'm1' of sm4gcm"):
        _open(under_sm)


def test_a_header_naming_an_unknown_suite_is_refused(suites, tmp_path):
    suites.use("sm")
    path = tmp_path / "f"
    _seal(path, b"some rows")
    data = bytearray(path.read_bytes())
    data[6:12] = b"xx4gcm"
    path.write_bytes(bytes(data))
    with pytest.raises(FileTampered, match="unknown cipher suite 'xx4gcm'"):
        _open(path)
