import base64
import io
import os
import stat
import struct
import zipfile

import pytest

from xueji.core import crypto, filecrypt
from xueji.core.filecrypt import CHUNK_BYTES, TAG_BYTES, FileTampered

ID_NUMBER = b"440105201808150539"


def _seal(path, data: bytes, context: str = "test.file") -> None:  # type: ignore[no-untyped-def]
    with filecrypt.encrypted_file(path, context=context) as out:
        out.write(data)


def _open(path, context: str = "test.file") -> bytes:  # type: ignore[no-untyped-def]
    with filecrypt.open_encrypted(path, context=context) as handle:
        return handle.read()


def _header_length(path) -> int:  # type: ignore[no-untyped-def]
    """Where the chunks start: magic, version, suite, key id, chunk size, nonce prefix."""
    head = path.read_bytes()
    suite_end = 6 + head[5]
    return suite_end + 1 + head[suite_end] + 4 + filecrypt.NONCE_PREFIX_BYTES


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 17]
)
def test_round_trip_at_every_chunk_boundary(tmp_path, size):  # type: ignore[no-untyped-def]
    data = os.urandom(size)
    path = tmp_path / "f"
    _seal(path, data)
    assert _open(path) == data
    assert filecrypt.verify(path, context="test.file") == size


def test_the_header_names_format_suite_and_key(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    _seal(path, b"x")
    head = path.read_bytes()
    assert head[:4] == b"XJFC" and head[4] == filecrypt.FORMAT_VERSION
    assert head[5] == len(b"aes256gcm") and head[6:15] == b"aes256gcm"
    key_id = crypto.keyring().active_id.encode()
    assert head[15] == len(key_id) and head[16 : 16 + len(key_id)] == key_id
    with filecrypt.DecryptingReader(path, context="test.file") as reader:
        assert (reader.suite, reader.key_id) == ("aes256gcm", crypto.keyring().active_id)


def test_no_plaintext_reaches_the_disk(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    _seal(path, b"name,id\n" + (b"\xe5\xbc\xa0\xe4\xb8\x89," + ID_NUMBER + b"\n") * 5000)
    stored = path.read_bytes()
    assert ID_NUMBER not in stored and "张三".encode() not in stored
    assert ID_NUMBER[:12] not in stored


def test_file_and_folder_are_private_from_the_first_byte(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "kept"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    filecrypt.private_folder(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    path = folder / "f"
    old_umask = os.umask(0)  # even a careless umask gives nobody else a bit
    try:
        with filecrypt.encrypted_file(path, context="test.file") as out:
            partial = folder / "f.part"
            # Nothing written yet but the header: already the owner's alone.
            assert stat.S_IMODE(partial.stat().st_mode) == 0o600
            out.write(b"a" * (3 * CHUNK_BYTES))
            assert stat.S_IMODE(partial.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not partial.exists()


def test_an_error_while_writing_leaves_nothing(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    with pytest.raises(RuntimeError), filecrypt.encrypted_file(path, context="test.file") as out:
        out.write(b"half")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_name_or_a_link_is_never_written_through(tmp_path):  # type: ignore[no-untyped-def]
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    (tmp_path / "f.part").symlink_to(target)
    with pytest.raises(FileExistsError), filecrypt.encrypted_file(tmp_path / "f", context="c"):
        pass
    assert target.read_bytes() == b"keep"


def test_a_flipped_bit_is_refused(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    _seal(path, os.urandom(2 * CHUNK_BYTES + 5))
    data = bytearray(path.read_bytes())
    data[_header_length(path) + 10] ^= 1  # in the first chunk
    path.write_bytes(bytes(data))
    with pytest.raises(FileTampered, match="chunk 0"):
        _open(path)
    with pytest.raises(FileTampered):
        filecrypt.verify(path, context="test.file")


def test_a_cut_file_is_refused_at_a_chunk_boundary_and_inside_one(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    _seal(path, os.urandom(3 * CHUNK_BYTES + 100))
    whole = path.read_bytes()
    start = _header_length(path)
    step = CHUNK_BYTES + TAG_BYTES
    for cut in (start + 2 * step, start + 3 * step, len(whole) - 1, start + 5, 10):
        path.write_bytes(whole[:cut])
        with pytest.raises(FileTampered):
            filecrypt.open_encrypted(path, context="test.file")


def test_chunks_reordered_or_appended_are_refused(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    _seal(path, os.urandom(3 * CHUNK_BYTES + 100))
    whole = path.read_bytes()
    start = _header_length(path)
    step = CHUNK_BYTES + TAG_BYTES
    head, chunks = (
        whole[:start],
        [whole[start + i * step : start + (i + 1) * step] for i in range(4)],
    )
    path.write_bytes(head + chunks[1] + chunks[0] + chunks[2] + chunks[3])
    with pytest.raises(FileTampered, match="chunk 0"):
        _open(path)
    path.write_bytes(whole + chunks[3])  # a final chunk again after the final one
    with pytest.raises(FileTampered):
        filecrypt.open_encrypted(path, context="test.file")


def test_the_header_and_the_context_are_authenticated(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    _seal(path, b"a" * 100, context="imports.upload:1")
    with pytest.raises(FileTampered):
        _open(path, context="imports.upload:2")  # another job's file moved under this name
    data = bytearray(path.read_bytes())
    start = _header_length(path)
    data[start - 1] ^= 1  # the nonce prefix
    path.write_bytes(bytes(data))
    with pytest.raises(FileTampered):
        _open(path, context="imports.upload:1")
    data[start - 1] ^= 1
    data[start - 12 : start - 8] = struct.pack(">I", 100)  # another chunk size
    path.write_bytes(bytes(data))
    with pytest.raises(FileTampered):
        _open(path, context="imports.upload:1")


def test_an_unknown_suite_or_format_is_refused(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    _seal(path, b"abc")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"aes256gcm", b"aes256xyz", 1))
    with pytest.raises(FileTampered, match="suite"):
        _open(path)
    path.write_bytes(b"PK\x03\x04" + data[4:])
    with pytest.raises(FileTampered):
        _open(path)
    assert not filecrypt.is_encrypted(path)


def test_a_file_sealed_under_an_older_key_is_read_after_rotation(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    old, new = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("XUEJI_INDEX_KEY", base64.b64encode(b"i" * 32).decode())
    monkeypatch.setenv("XUEJI_FIELD_KEYS", f"k1:{old}")
    crypto.reset_keyring()
    try:
        _seal(tmp_path / "f", b"kept for 30 days")
        monkeypatch.setenv("XUEJI_FIELD_KEYS", f"k2:{new},k1:{old}")
        crypto.reset_keyring()
        _seal(tmp_path / "g", b"new")
        assert _open(tmp_path / "f") == b"kept for 30 days"
        with filecrypt.DecryptingReader(tmp_path / "g", context="test.file") as reader:
            assert reader.key_id == "k2"
        monkeypatch.setenv("XUEJI_FIELD_KEYS", f"k2:{new}")  # k1 retired
        crypto.reset_keyring()
        with pytest.raises(crypto.KeyError_):
            _open(tmp_path / "f")
    finally:
        crypto.reset_keyring()


def test_a_sealed_workbook_is_read_by_zipfile_through_seeks(tmp_path):  # type: ignore[no-untyped-def]
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.xml", b"<a>" + os.urandom(300_000).hex().encode() + b"</a>")
        archive.writestr("b.xml", b"<b/>")
    path = tmp_path / "f"
    _seal(path, plain.getvalue())
    with filecrypt.open_encrypted(path, context="test.file") as handle:
        with zipfile.ZipFile(handle) as archive:
            assert archive.read("b.xml") == b"<b/>"
            assert archive.read("a.xml").startswith(b"<a>")
        handle.seek(-4, io.SEEK_END)
        assert handle.read() == plain.getvalue()[-4:]


def test_a_zip_written_into_the_writer_as_a_stream_reads_back(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    with (
        filecrypt.encrypted_file(path, context="test.file") as out,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr("x.xml", b"<x/>" * 50_000)
    with (
        filecrypt.open_encrypted(path, context="test.file") as handle,
        zipfile.ZipFile(handle) as archive,
    ):
        assert archive.read("x.xml") == b"<x/>" * 50_000
