"""Files encrypted at rest with the field keys (xueji.core.crypto's keyring): uploads kept for
their retention, exports written in the background.

A file is sealed in chunks (the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár,
as Tink's streaming AEAD lays it out), so that neither writing nor reading holds the whole file:

    header   b"XJFC" | version (1 byte) | suite id (length byte + ASCII)
             | key id (length byte + UTF-8) | plaintext chunk size (uint32) | nonce prefix (8 bytes)
    chunks   AEAD(plaintext chunk) with its 16-byte tag, every chunk CHUNK_BYTES of plaintext but
             the last (which may be shorter, or empty for an empty file)

Chunk i is sealed under the nonce  prefix (8 bytes) | uint32(i | final << 31)  with the header
and the file's context (what it is and whose: "imports.upload:<job id>") as associated data.
So a flipped bit, a chunk moved to another place, a file cut at a chunk's end (its last chunk
is then not marked final), a file with chunks appended after its final one, a header edited to
name another key or chunk size, and a file moved under another job's name are each refused
(FileTampered). The nonce prefix is random per file: with 2**64 prefixes, a million files under
one key collide with a probability of about 2**-25.

The AEAD is obtained from `_aead_for(suite, key)` alone; the suite in force is recorded in every
header ("aes256gcm" under the intl suite, "sm4gcm", SM4-GCM with a 16-byte key, under sm:
XUEJI_CRYPTO_SUITE, xueji.core.suites), so that files written under one suite stay readable after
another is chosen, as long as their suite's key is in the keyring.

Files are created 0600 (O_EXCL, never following a link) in a folder made 0700: they are
readable by the service's account alone from their first byte.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Protocol

from cryptography.exceptions import InvalidTag

from xueji.core import crypto, suites

MAGIC = b"XJFC"
FORMAT_VERSION = 1
AES256GCM = suites.SUITES[suites.INTL].file_suite  # "aes256gcm"
SM4GCM = suites.SUITES[suites.SM].file_suite  # "sm4gcm"
CHUNK_BYTES = 64 * 1024
TAG_BYTES = 16
NONCE_PREFIX_BYTES = 8
_FINAL = 1 << 31
_MAX_CHUNKS = _FINAL  # the index has 31 bits: 128 TiB of plaintext per file
_MAX_HEADER_BYTES = 4 + 1 + 1 + 255 + 1 + 255 + 4 + NONCE_PREFIX_BYTES


class FileTampered(ValueError):
    """An encrypted file is not as it was written (or was written for another context)."""


class Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


def _suite(suite: str) -> suites.Suite:
    try:
        return suites.suite_of_file(suite)
    except ValueError:
        raise FileTampered(f"unknown cipher suite {suite!r}") from None


def _aead_for(suite: str, key: bytes) -> Aead:
    """The AEAD of a suite with a key (xueji.core.suites names the algorithms)."""
    return suites.aead(_suite(suite), key)


def _suite_in_force() -> str:
    """The suite new files are sealed with: the one XUEJI_CRYPTO_SUITE puts in force."""
    return crypto.keyring().suite.file_suite


def _active_key() -> tuple[str, bytes]:
    """The key id and key that seal new files: the active suite's active field key."""
    keys = crypto.keyring().active
    return keys.active_id, keys.keys[keys.active_id]


def _key(suite: str, key_id: str) -> bytes:
    """The key a file names in its header (any key of its suite in the keyring: a file sealed
    before a rotation or a change of suite stays readable while its key is kept)."""
    try:
        return crypto.keyring().of(_suite(suite).name).keys[key_id]
    except (KeyError, crypto.KeyError_):
        raise crypto.KeyError_(f"no key {key_id!r} of {suite} in the keyring") from None


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    if index >= _MAX_CHUNKS:
        raise ValueError("file too large for one encrypted stream")
    return prefix + struct.pack(">I", index | (_FINAL if final else 0))


def _header(suite: str, key_id: str, chunk_bytes: int, prefix: bytes) -> bytes:
    suite_bytes, key_bytes = suite.encode("ascii"), key_id.encode()
    return b"".join(
        [
            MAGIC,
            bytes([FORMAT_VERSION, len(suite_bytes)]),
            suite_bytes,
            bytes([len(key_bytes)]),
            key_bytes,
            struct.pack(">I", chunk_bytes),
            prefix,
        ]
    )


def private_folder(path: Path) -> Path:
    """The folder, made (or narrowed to) 0700: what it holds is the service's alone."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def _create_private(path: Path) -> int:
    """A new file, 0600 from its first byte; refuses an existing name or a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.open(path, flags, 0o600)


class EncryptingWriter(io.RawIOBase):
    """A write-only stream that seals what is written to it into an open file, chunk by chunk
    (the last chunk is sealed at close: until then a chunk is held back, since the last one is
    marked final)."""

    def __init__(self, out: IO[bytes], *, context: str, chunk_bytes: int = CHUNK_BYTES) -> None:
        super().__init__()
        suite = _suite_in_force()
        key_id, key = _active_key()
        self._out = out
        self._aead = _aead_for(suite, key)
        self._chunk = chunk_bytes
        self._prefix = os.urandom(NONCE_PREFIX_BYTES)
        self._aad = _header(suite, key_id, chunk_bytes, self._prefix)
        self._aad_full = self._aad + context.encode()
        self._buffer = bytearray()
        self._index = 0
        self._written = 0
        out.write(self._aad)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed file")
        view = memoryview(data).cast("B")
        self._buffer += view
        self._written += len(view)
        # Keep at least one byte back: the chunk that ends the file is sealed as final.
        while len(self._buffer) > self._chunk:
            self._seal(bytes(self._buffer[: self._chunk]), final=False)
            del self._buffer[: self._chunk]
        return len(view)

    def tell(self) -> int:
        # zipfile (XlsxWriter) asks where it is in a stream it cannot seek.
        return self._written

    def _seal(self, plain: bytes, *, final: bool) -> None:
        nonce = _nonce(self._prefix, self._index, final)
        self._out.write(self._aead.encrypt(nonce, plain, self._aad_full))
        self._index += 1

    def close(self) -> None:
        # A writer abandoned after its file was closed (an error while writing) seals nothing:
        # the partial file is removed.
        if not self.closed and not self._out.closed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._out.flush()
        super().close()


@contextmanager
def encrypted_file(path: Path, *, context: str) -> Iterator[EncryptingWriter]:
    """Write `path` sealed: a new file, 0600 from its first byte, complete only when the block
    ends without an error (written under a temporary name, then renamed; removed on error)."""
    partial = path.with_name(path.name + ".part")
    fd = _create_private(partial)
    try:
        with os.fdopen(fd, "wb") as out:
            writer = EncryptingWriter(out, context=context)
            yield writer
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def encrypt_stream(source: IO[bytes], path: Path, *, context: str) -> int:
    """Copy a readable stream into a new sealed file at `path`; the bytes copied."""
    copied = 0
    with encrypted_file(path, context=context) as out:
        while block := source.read(1024 * 1024):
            out.write(block)
            copied += len(block)
    return copied


class DecryptingReader(io.RawIOBase):
    """A sealed file read as its plaintext, seekable (zipfile reads an .xlsx's directory from
    its end): each read opens the chunk it falls in (the last one opened is kept). The final
    chunk is opened on opening the file, so a cut or extended file is refused at once; any
    other chunk is checked when it is read (`verify` reads them all)."""

    def __init__(self, path: Path, *, context: str) -> None:
        super().__init__()
        self._file = path.open("rb")
        try:
            self._read_header(context)
            self._check_length()
        except BaseException:
            self._file.close()
            raise
        self._position = 0
        self._cached: tuple[int, bytes] | None = None
        self._chunk_of(self._chunks - 1)  # the final chunk, checked now

    def _read_header(self, context: str) -> None:
        head = self._file.read(_MAX_HEADER_BYTES)
        try:
            if head[:4] != MAGIC or head[4] != FORMAT_VERSION:
                raise FileTampered("not an encrypted file of this format")
            at = 5
            suite = head[at + 1 : at + 1 + head[at]].decode("ascii")
            at += 1 + head[at]
            key_id = head[at + 1 : at + 1 + head[at]].decode()
            at += 1 + head[at]
            (self._chunk,) = struct.unpack(">I", head[at : at + 4])
            at += 4
            prefix = head[at : at + NONCE_PREFIX_BYTES]
            at += NONCE_PREFIX_BYTES
        except (IndexError, UnicodeDecodeError, struct.error):
            raise FileTampered("the file's header is damaged") from None
        if len(prefix) != NONCE_PREFIX_BYTES or not 0 < self._chunk <= 1 << 24:
            raise FileTampered("the file's header is damaged")
        self._prefix = prefix
        self._start = at
        self._aad = head[:at] + context.encode()
        self._aead = _aead_for(suite, _key(suite, key_id))
        self.suite, self.key_id = suite, key_id

    def _check_length(self) -> None:
        sealed = os.fstat(self._file.fileno()).st_size - self._start
        step = self._chunk + TAG_BYTES
        self._chunks = max(-(-sealed // step), 1)
        last = sealed - (self._chunks - 1) * step
        if last < TAG_BYTES:
            raise FileTampered("the file is cut short")
        self._size = (self._chunks - 1) * self._chunk + last - TAG_BYTES

    @property
    def size(self) -> int:
        """The plaintext's length."""
        return self._size

    def _chunk_of(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        step = self._chunk + TAG_BYTES
        self._file.seek(self._start + index * step)
        sealed = self._file.read(step)
        final = index == self._chunks - 1
        try:
            plain = self._aead.decrypt(_nonce(self._prefix, index, final), sealed, self._aad)
        except InvalidTag:
            raise FileTampered(
                f"chunk {index} of the file does not authenticate (altered, moved, cut, or "
                "written for another file)"
            ) from None
        self._cached = (index, plain)
        return plain

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if position < 0:
            raise ValueError("negative seek position")
        self._position = position
        return position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self._size:
            index, offset = divmod(self._position, self._chunk)
            plain = self._chunk_of(index)
            count = min(len(view) - done, len(plain) - offset)
            view[done : done + count] = plain[offset : offset + count]
            done += count
            self._position += count
        return done

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self._cached = None
        super().close()

    def verify(self) -> None:
        """Open every chunk (FileTampered at the first that does not authenticate)."""
        for index in range(self._chunks):
            self._chunk_of(index)


def open_encrypted(path: Path, *, context: str, buffer_bytes: int = CHUNK_BYTES) -> IO[bytes]:
    """A sealed file's plaintext as a buffered, seekable binary file."""
    return io.BufferedReader(DecryptingReader(path, context=context), buffer_bytes)


def verify(path: Path, *, context: str) -> int:
    """Check every chunk of a sealed file (FileTampered otherwise); its plaintext's length."""
    with DecryptingReader(path, context=context) as reader:
        reader.verify()
        return reader.size


def is_encrypted(path: Path) -> bool:
    """Whether the file starts as a sealed file does (files kept before sealing began do not)."""
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC
