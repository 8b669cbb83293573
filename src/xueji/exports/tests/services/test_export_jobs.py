"""The background export's services: the run writes the file as its requester is allowed now,
in the language they asked in; a failure leaves no file; expired files are deleted; a job is
written once however many workers pick it up."""

from __future__ import annotations

import datetime
import io
import stat
import threading
from unittest import mock

import openpyxl
import pytest
from django.db import connection
from django.utils import timezone, translation

from xueji.access.models import Membership, Role
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, NotFound
from xueji.exports import services as export_services
from xueji.exports.models import ExportJob, ExportState
from xueji.exports.records import records_selection
from xueji.exports.selectors import export_jobs_recent
from xueji.exports.services import (
    export_dir,
    export_job_create,
    export_job_download,
    export_job_run,
    export_jobs_purge,
)
from xueji.exports.storage import open_export
from xueji.exports.tests.conftest import register
from xueji.exports.workflow import InvalidTransition
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(school, registrar):  # type: ignore[no-untyped-def]
    return register(school, registrar, ("张春铭", "李华", "王芳"))


def _queue(actor, fmt: str = "xlsx", criteria: dict | None = None) -> ExportJob:  # type: ignore[no-untyped-def,type-arg]
    criteria = criteria or {}
    selection = records_selection(actor, criteria)
    return export_job_create(
        actor=actor, table="records", criteria=criteria, selection=selection, fmt=fmt,
        reveal=False, rows=selection.count(), enqueue=False,
    )  # fmt: skip


def _rows(job: ExportJob) -> list[tuple]:  # type: ignore[type-arg]
    with open_export(job.pk, job.stored_path) as kept:  # sealed at rest
        content = kept.read()
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def test_the_file_is_written_in_the_language_it_was_asked_in(registered, registrar):
    with translation.override("en"):
        job = _queue(registrar)
    with translation.override("zh-hans"):
        job = export_job_run(job_id=job.pk)
    assert job.state == ExportState.READY and job.rows_done == job.rows_total == 3
    assert _rows(job)[0][:2] == ("Student number", "Name")
    assert job.filename == "Student records.xlsx"


def test_a_csv_job_is_written_too(registered, registrar):
    job = export_job_run(job_id=_queue(registrar, fmt="csv").pk)
    with open_export(job.pk, job.stored_path) as kept:
        text = kept.read().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("全国学籍号,姓名") and len(text.splitlines()) == 4
    assert stat.S_IMODE((export_dir() / job.stored_path).stat().st_mode) == 0o600
    assert stat.S_IMODE(export_dir().stat().st_mode) == 0o700


def test_a_requester_who_may_no_longer_export_gets_no_file(registered, registrar):
    job = _queue(registrar)
    Membership.objects.filter(user=registrar).delete()
    job = export_job_run(job_id=job.pk)
    assert job.state == ExportState.FAILED and not job.stored_path
    assert "no longer" in job.message_en and job.message
    assert list(export_dir().iterdir()) == []
    assert not AuditEntry.objects.filter(action="export").exists()
    assert AuditEntry.objects.filter(action="export.fail").exists()


def test_a_file_that_breaks_off_leaves_nothing_behind(registered, registrar):
    job = _queue(registrar)

    def broken(path, lines, **kwargs):  # type: ignore[no-untyped-def]
        with open(path, "wb") as out:
            out.write(b"PK half a file")
        raise OSError("disk full")

    with mock.patch.object(export_services, "write_xlsx", broken):
        job = export_job_run(job_id=job.pk)
    assert job.state == ExportState.FAILED and not job.stored_path
    assert list(export_dir().iterdir()) == []
    assert "again" in job.message_en


def test_a_job_is_run_once(registered, registrar):
    queued = _queue(registrar)
    assert queued.heartbeat_at is None
    job = export_job_run(job_id=queued.pk)
    assert job.heartbeat_at is not None  # the worker said it took the job
    written = (export_dir() / job.stored_path).stat().st_mtime_ns
    again = export_job_run(job_id=job.pk)
    assert again.state == ExportState.READY
    assert (export_dir() / job.stored_path).stat().st_mtime_ns == written
    assert AuditEntry.objects.filter(action="export").count() == 1


def test_only_the_requester_downloads_and_every_download_is_recorded(registered, registrar, school):
    job = export_job_run(job_id=_queue(registrar).pk)
    with pytest.raises(NotFound):
        export_job_download(actor=member(Role.REGISTRAR, school=school), job_id=job.pk)
    for _ in range(2):
        download = export_job_download(actor=registrar, job_id=job.pk)
        with download.open() as kept:
            assert kept.read(2) == b"PK" and download.filename == "学籍名单"
    assert ExportJob.objects.get().downloads == 2
    assert AuditEntry.objects.filter(action="export.download").count() == 2


def test_a_file_not_yet_written_is_not_given(registered, registrar):
    job = _queue(registrar)
    with pytest.raises(Conflict):
        export_job_download(actor=registrar, job_id=job.pk)


def test_the_purge_deletes_expired_files_and_ends_jobs_the_worker_never_finished(
    registered, registrar
):
    ready = export_job_run(job_id=_queue(registrar).pk)
    fresh = export_job_run(job_id=_queue(registrar).pk)
    stuck = _queue(registrar)
    past = timezone.now() - datetime.timedelta(minutes=1)
    ExportJob.objects.filter(pk__in=[ready.pk, stuck.pk]).update(expires_at=past)
    (export_dir() / f"{stuck.pk}.xlsx.part").write_bytes(b"half")
    assert export_jobs_purge(actor=None) == 1
    ready.refresh_from_db()
    stuck.refresh_from_db()
    assert ready.state == stuck.state == ExportState.EXPIRED
    assert ready.stored_path == "" and "period" in stuck.message_en
    assert sorted(p.name for p in export_dir().iterdir()) == [fresh.stored_path]
    assert list(export_jobs_recent(registrar)) == [fresh]
    assert AuditEntry.objects.filter(action="export.purge").get().detail["files"] == 1


def test_an_unexpected_transition_is_an_error():
    from xueji.exports.workflow import Event, transition

    assert transition(None, Event.REQUEST) == ExportState.QUEUED
    with pytest.raises(InvalidTransition):
        transition(ExportState.READY, Event.START)
    with pytest.raises(InvalidTransition):
        transition(ExportState.EXPIRED, Event.FINISH)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_taking_the_same_job_write_it_once(registered, registrar):
    job = _queue(registrar)
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            export_job_run(job_id=job.pk)
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert ExportJob.objects.get().state == ExportState.READY
    assert AuditEntry.objects.filter(action="export").count() == 1
