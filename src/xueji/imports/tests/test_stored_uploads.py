"""Kept uploads hold children's and parents' ID numbers for 30 days: sealed with the field keys,
0600 in a 0700 folder from the first byte, read back (the import, the error workbook) without a
plaintext copy on disk, and refused when altered."""

from __future__ import annotations

import os
import stat

import pytest

from xueji.core import filecrypt
from xueji.imports.models import ImportJob, JobState
from xueji.imports.services import import_job_create, import_job_run, import_jobs_purge
from xueji.imports.storage import SEALED_SUFFIX, import_dir
from xueji.imports.tests.sheets import csv_bytes, many_students, row_of, xlsx_bytes
from xueji.testing.factories import student_data

CHILD = next(iter(many_students(1)))
ID_NUMBER = CHILD.id_number


def _rows() -> list[list[object]]:
    return [row_of(CHILD)]


@pytest.mark.parametrize(
    ("make", "name"), [(xlsx_bytes, "students.xlsx"), (csv_bytes, "students.csv")]
)
def test_an_upload_is_kept_sealed_and_private_and_imports(upload, make, name):  # type: ignore[no-untyped-def]
    content = make(_rows())
    assert ID_NUMBER.encode() in content or name.endswith(".xlsx")
    job = upload(content, filename=name)
    assert job.state == JobState.IMPORTED, job.message_en
    stored = import_dir() / job.stored_path
    assert job.stored_path.endswith(SEALED_SUFFIX)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(import_dir().stat().st_mode) == 0o700
    kept = stored.read_bytes()
    assert filecrypt.is_encrypted(stored)
    # Nothing of the upload is on disk as it was: no ID number, no name, no zip part.
    assert ID_NUMBER.encode() not in kept and ID_NUMBER[:14].encode() not in kept
    assert b"[Content_Types].xml" not in kept and b"sharedStrings" not in kept
    assert content[:64] not in kept


def test_the_folder_is_narrowed_to_0700_and_files_are_0600_from_their_first_byte(
    upload, settings, monkeypatch
):  # type: ignore[no-untyped-def]
    folder = settings.XUEJI_IMPORT_DIR
    folder.mkdir(mode=0o755, parents=True)
    os.chmod(folder, 0o755)  # as kept uploads were before
    modes: list[int] = []
    real_open = os.open

    def watching(path, flags, mode=0o777, *args, **kwargs):  # type: ignore[no-untyped-def]
        fd = real_open(path, flags, mode, *args, **kwargs)
        if str(path).startswith(str(folder)):
            modes.append(stat.S_IMODE(os.fstat(fd).st_mode))  # before a byte is written
            modes.append(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode))
        return fd

    monkeypatch.setattr(os, "open", watching)
    old_umask = os.umask(0)
    try:
        upload(csv_bytes(_rows()), filename="students.csv")
    finally:
        os.umask(old_umask)
    assert modes and set(modes[0::2]) == {0o600} and set(modes[1::2]) == {0o700}


def test_a_kept_upload_altered_on_disk_is_refused_not_read(upload, registrar):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = csv_bytes(_rows())
    job = import_job_create(
        actor=registrar,
        purpose="students",
        upload=SimpleUploadedFile("s.csv", content),
        filename="s.csv",
        size=len(content),
        enqueue=False,
    )
    stored = import_dir() / job.stored_path
    data = bytearray(stored.read_bytes())
    data[-20] ^= 1
    stored.write_bytes(bytes(data))
    job = import_job_run(job_id=job.pk)
    assert job.state == JobState.INVALID and job.rows_written == 0
    assert "damaged" in job.message_en


def test_another_jobs_upload_moved_under_a_jobs_name_is_refused(registrar):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    jobs = []
    for n, data in enumerate([student_data(), student_data()]):
        content = csv_bytes([row_of(data)])
        jobs.append(
            import_job_create(
                actor=registrar,
                purpose="students",
                upload=SimpleUploadedFile(f"{n}.csv", content),
                filename=f"{n}.csv",
                size=len(content),
                enqueue=False,
            )
        )
    first, second = (import_dir() / job.stored_path for job in jobs)
    first.write_bytes(second.read_bytes())
    assert import_job_run(job_id=jobs[0].pk).state == JobState.INVALID


def test_the_error_workbook_is_made_from_the_sealed_upload(upload, registrar, client):  # type: ignore[no-untyped-def]
    import io

    import openpyxl

    job = upload(xlsx_bytes([row_of(name="")]), filename="bad.xlsx")
    assert job.state == JobState.INVALID and job.errors
    client.force_login(registrar)
    response = client.get(f"/imports/{job.pk}/report.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.cell(row=1, column=3).value.startswith("姓名")


def test_the_purge_seals_uploads_kept_in_plaintext_before(upload, registrar):  # type: ignore[no-untyped-def]
    job = upload(csv_bytes(_rows()), filename="old.csv")
    # An upload kept the way it was before sealing began.
    legacy = f"{job.pk}.csv"
    (import_dir() / legacy).write_bytes(csv_bytes(_rows()))
    (import_dir() / job.stored_path).unlink()
    ImportJob.objects.filter(pk=job.pk).update(stored_path=legacy)
    import_jobs_purge(actor=registrar)
    job.refresh_from_db()
    assert job.stored_path == legacy + SEALED_SUFFIX
    assert not (import_dir() / legacy).exists()
    kept = (import_dir() / job.stored_path).read_bytes()
    assert ID_NUMBER.encode() not in kept
