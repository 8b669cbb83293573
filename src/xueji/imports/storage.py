"""Where uploads are kept until their retention ends: sealed with the field keys
(xueji.core.filecrypt, chunked AEAD), in files 0600 in a 0700 folder from their first byte.

An upload holds children's and parents' ID numbers. It is kept (30 days) so that the import can
be run and its error workbook written from it; at rest it is ciphertext only. It is read back as
a stream: the import opens it as many times as it reads the sheet (a CSV's blocks, an .xlsx's
zip directory and worksheet), each time decrypting only the chunks it reads; what calamine must
have whole (an .xls, an .ods, an .xlsx the slicer cannot cut) is decrypted into memory, which
xueji.imports.safety already bounds (an .xls at 24 MB; any upload at XUEJI_IMPORT_MAX_MB).
No plaintext copy of the upload is written to disk.

Uploads kept before sealing began (a name without SEALED_SUFFIX) are read as they are, and
sealed by `xueji imports_purge` (seal_legacy_uploads).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from xueji.core import filecrypt
from xueji.imports.source import Source

SEALED_SUFFIX = ".sealed"


def import_dir() -> Path:
    """Uploads are kept here (outside the web root), the service's alone, until the retention
    ends."""
    path = Path(getattr(settings, "XUEJI_IMPORT_DIR", Path(settings.VAR_DIR) / "imports"))
    return filecrypt.private_folder(path)


def _context(job_id: Any) -> str:
    # The job's id is authenticated with the file: another job's upload moved under this
    # job's name is refused.
    return f"imports.upload:{job_id}"


def store_upload(*, job_id: Any, kind: str, upload: IO[bytes]) -> str:
    """Seal the upload (read from its start) into the import folder; the stored name."""
    name = f"{job_id}.{kind}{SEALED_SUFFIX}"
    upload.seek(0)
    filecrypt.encrypt_stream(upload, import_dir() / name, context=_context(job_id))
    upload.seek(0)
    return name


def stored_source(*, job_id: Any, stored_path: str) -> Source:
    """The kept upload of a job, as the sheet reader opens it."""
    path = import_dir() / stored_path
    if not stored_path.endswith(SEALED_SUFFIX):
        return Source.of(path)
    context = _context(job_id)

    def opened() -> IO[bytes]:
        return filecrypt.open_encrypted(path, context=context)

    return Source(open=opened, name=stored_path.split(".", 1)[0])


def stored_exists(stored_path: str) -> bool:
    return bool(stored_path) and (import_dir() / stored_path).exists()


def remove_upload(stored_path: str) -> None:
    (import_dir() / stored_path).unlink(missing_ok=True)


def seal_legacy_upload(*, job_id: Any, stored_path: str) -> str:
    """A plaintext upload kept before sealing began, sealed in place; its new name."""
    path = import_dir() / stored_path
    name = stored_path + SEALED_SUFFIX
    with path.open("rb") as plain:
        filecrypt.encrypt_stream(plain, import_dir() / name, context=_context(job_id))
    os.unlink(path)
    return name
