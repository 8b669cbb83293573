"""A background export is kept sealed with the field keys (a revealed one holds full ID
numbers): no number on disk, 0600 in 0700 from the first byte, decrypted when downloaded, and a
file altered on disk is refused before anything of it goes out."""

from __future__ import annotations

import io
import os
import stat

import openpyxl
import pytest

from xueji.audit.models import AuditEntry
from xueji.core import filecrypt
from xueji.core.errors import Conflict
from xueji.exports.models import ExportJob, ExportState
from xueji.exports.records import records_selection
from xueji.exports.services import export_job_create, export_job_download, export_job_run
from xueji.exports.storage import export_dir
from xueji.exports.tests.conftest import register

pytestmark = pytest.mark.django_db


def _revealed(actor, fmt: str) -> ExportJob:  # type: ignore[no-untyped-def]
    selection = records_selection(actor, {})
    job = export_job_create(
        actor=actor, table="records", criteria={}, selection=selection, fmt=fmt,
        reveal=True, rows=selection.count(), enqueue=False,
    )  # fmt: skip
    return export_job_run(job_id=job.pk)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_revealed_export_is_kept_sealed_and_downloads_in_full(school, registrar, fmt):  # type: ignore[no-untyped-def]
    students = register(school, registrar, ("张春铭", "李华"))
    numbers = {s.reveal_id_number() for s in students}
    job = _revealed(registrar, fmt)
    assert job.state == ExportState.READY
    stored = export_dir() / job.stored_path
    kept = stored.read_bytes()
    assert filecrypt.is_encrypted(stored)
    for number in numbers:
        assert number.encode() not in kept and number[:12].encode() not in kept
    assert "张春铭".encode() not in kept
    assert sorted(p.name for p in export_dir().iterdir()) == [job.stored_path]  # no plaintext
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(export_dir().stat().st_mode) == 0o700
    with export_job_download(actor=registrar, job_id=job.pk).open() as downloaded:
        content = downloaded.read()
    if fmt == "csv":
        text = content.decode("utf-8-sig")
    else:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        text = repr([row for row in book.worksheets[0].iter_rows(values_only=True)])
    assert all(number in text for number in numbers)
    assert job.size == len(content)


def test_an_export_file_is_0600_in_0700_from_its_first_byte(school, registrar, monkeypatch):  # type: ignore[no-untyped-def]
    register(school, registrar, ("张春铭",))
    folder = export_dir()
    os.chmod(folder, 0o755)  # as an older version left it
    modes: list[tuple[str, int, int]] = []
    real_open = os.open

    def watching(path, flags, mode=0o777, *args, **kwargs):  # type: ignore[no-untyped-def]
        fd = real_open(path, flags, mode, *args, **kwargs)
        if str(path).startswith(str(folder)) and flags & os.O_CREAT:
            modes.append(
                (
                    os.path.basename(path),
                    stat.S_IMODE(os.fstat(fd).st_mode),
                    stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
                )
            )
        return fd

    monkeypatch.setattr(os, "open", watching)
    old_umask = os.umask(0)
    try:
        for fmt in ("csv", "xlsx"):
            assert _revealed(registrar, fmt).state == ExportState.READY
    finally:
        os.umask(old_umask)
    assert modes and all(mode == 0o600 and folder_mode == 0o700 for _n, mode, folder_mode in modes)


def test_an_export_altered_on_disk_is_refused_and_nothing_goes_out(school, registrar, client):  # type: ignore[no-untyped-def]
    register(school, registrar, ("张春铭",))
    job = _revealed(registrar, "xlsx")
    stored = export_dir() / job.stored_path
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 1
    stored.write_bytes(bytes(data))
    with pytest.raises(Conflict, match=r"damaged|损坏"):
        export_job_download(actor=registrar, job_id=job.pk)
    assert not AuditEntry.objects.filter(action="export.download").exists()
    client.force_login(registrar)
    response = client.get(f"/exports/{job.pk}/file")
    assert response.status_code == 302 and not hasattr(response, "streaming_content")


def test_an_export_cut_short_on_disk_is_refused(school, registrar):  # type: ignore[no-untyped-def]
    register(school, registrar, ("张春铭",))
    job = _revealed(registrar, "csv")
    stored = export_dir() / job.stored_path
    stored.write_bytes(stored.read_bytes()[:-1])
    with pytest.raises(Conflict):
        export_job_download(actor=registrar, job_id=job.pk)
