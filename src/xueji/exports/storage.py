"""Where background exports are kept until their download period ends: sealed with the field
keys (xueji.core.filecrypt, chunked AEAD), 0600 in a 0700 folder from the first byte, and
decrypted as they are downloaded.

A revealed export holds full ID and student numbers, a masked one still children's names and
birth dates: every kept export is sealed. A CSV is sealed as it is written. XlsxWriter must
write an .xlsx to a file it can seek (its constant-memory mode; a stream would make it hold the
whole workbook in memory), so the workbook is written to a plaintext file in the private
folder, sealed, and that file removed at once (and by the purge, if the worker stopped
between the two).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from xueji.core import filecrypt

SEALED_SUFFIX = ".sealed"


def export_dir() -> Path:
    """Written exports are kept here (outside the web root), the service's alone."""
    path = Path(getattr(settings, "XUEJI_EXPORT_DIR", Path(settings.VAR_DIR) / "exports"))
    return filecrypt.private_folder(path)


def _context(job_id: Any) -> str:
    # The job's id is authenticated with the file: another export's file moved under this
    # job's name is refused.
    return f"exports.file:{job_id}"


def stored_name(job_id: Any, fmt: str) -> str:
    return f"{job_id}.{fmt}{SEALED_SUFFIX}"


def plaintext_name(job_id: Any, fmt: str) -> str:
    """The workbook XlsxWriter writes before it is sealed."""
    return f"{job_id}.{fmt}.plain"


@contextmanager
def sealed_export(job_id: Any, fmt: str) -> Iterator[IO[bytes]]:
    """A stream whose bytes are sealed into the job's file (complete when the block ends)."""
    with filecrypt.encrypted_file(
        export_dir() / stored_name(job_id, fmt), context=_context(job_id)
    ) as out:
        yield out  # type: ignore[misc]


@contextmanager
def plaintext_workbook(job_id: Any, fmt: str) -> Iterator[Path]:
    """A new private file (0600) for XlsxWriter to write, sealed into the job's file when the
    block ends without an error, and removed in every case."""
    path = export_dir() / plaintext_name(job_id, fmt)
    path.unlink(missing_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    try:
        yield path
        with path.open("rb") as written:
            filecrypt.encrypt_stream(
                written, export_dir() / stored_name(job_id, fmt), context=_context(job_id)
            )
    finally:
        path.unlink(missing_ok=True)


def verify_export(job_id: Any, stored_path: str) -> None:
    """Every chunk of a kept export authenticates (FileTampered otherwise): checked before a
    download is granted, so that nothing of a file altered on disk goes out."""
    if stored_path.endswith(SEALED_SUFFIX):
        filecrypt.verify(export_dir() / stored_path, context=_context(job_id))


def open_export(job_id: Any, stored_path: str) -> IO[bytes]:
    """A kept export's plaintext, decrypted as it is read."""
    path = export_dir() / stored_path
    if not stored_path.endswith(SEALED_SUFFIX):  # written before sealing began
        return path.open("rb")
    return filecrypt.open_encrypted(path, context=_context(job_id))


def remove_export(job_id: Any, stored_path: str, fmt: str) -> None:
    """The job's kept file and whatever a stopped worker left of it."""
    folder = export_dir()
    for name in (stored_path, stored_name(job_id, fmt) + ".part", plaintext_name(job_id, fmt)):
        if name:
            (folder / name).unlink(missing_ok=True)
    (folder / f"{job_id}.{fmt}.part").unlink(missing_ok=True)
