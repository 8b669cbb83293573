"""Every write of a background export: the request (queued), the run (the file written), each
download, and the purge of expired files.

An Excel file of a province's records takes minutes to write: XlsxWriter must finish the file
before its first byte can be sent, and a reverse proxy gives up on a response that says nothing
for a minute (nginx: 60 s). Above XUEJI_EXPORT_BACKGROUND_ROWS rows an Excel export is therefore
written by the task worker into XUEJI_EXPORT_DIR, its progress shown on its page, and the file
is downloaded by whoever asked for it until XUEJI_EXPORT_KEEP_HOURS have passed. CSV always
streams from the first rows, so it never needs this."""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, may, scope_of
from xueji.audit.services import audit_record
from xueji.core.crypto import decrypt, encrypt
from xueji.core.errors import Conflict, NotFound, translated
from xueji.core.exports import FORMATS, csv_chunks, table_cells, write_xlsx
from xueji.core.filecrypt import FileTampered
from xueji.core.jobs import in_both_languages
from xueji.exports.files import columns_detail, export_detail, require_export
from xueji.exports.models import ExportJob, ExportState
from xueji.exports.records import (
    RECORD_COLUMNS,
    InvalidCriteria,
    NoSuchClass,
    NoSuchSchool,
    Selection,
    record_rows,
    records_selection,
    roster_selection,
)
from xueji.exports.storage import (
    export_dir,
    open_export,
    plaintext_workbook,
    remove_export,
    sealed_export,
    stored_name,
    verify_export,
)
from xueji.exports.workflow import Event, may_download, transition

logger = logging.getLogger(__name__)

CRITERIA_CONTEXT = "export.criteria"
TABLES = ("records", "roster")
PROGRESS_EVERY_SECONDS = 0.5


def background_rows() -> int:
    """An Excel export of more rows than this is written in the background."""
    return int(getattr(settings, "XUEJI_EXPORT_BACKGROUND_ROWS", 20_000))


def keep_hours() -> int:
    return int(getattr(settings, "XUEJI_EXPORT_KEEP_HOURS", 24))


def _detail(job: ExportJob, rows: int) -> dict[str, Any]:
    """The audit entry's detail, as an export answered at once writes it."""
    return export_detail(
        name=job.name, fmt=job.fmt, rows=rows, reveal=job.reveal,
        **columns_detail(RECORD_COLUMNS, job.filters),
    )  # fmt: skip


def export_job_create(
    *,
    actor: Any,
    table: str,
    criteria: dict[str, Any],
    selection: Selection,
    fmt: str,
    reveal: bool,
    rows: int,
    enqueue: bool = True,
) -> ExportJob:
    """Queue the export of a selection the actor chose (`criteria`: the request's parameters,
    read again when the file is written); needs the export permission, and the reveal
    permission to unmask. Recorded in the audit trail."""
    if table not in TABLES:
        raise ValueError(f"unknown export table {table!r}")
    require_export(actor, fmt, reveal)
    with transaction.atomic():
        job = ExportJob(
            table=table,
            fmt=fmt,
            criteria_sealed=encrypt(json.dumps(criteria), context=CRITERIA_CONTEXT),
            filters=selection.filters,
            reveal=reveal,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            name=selection.name[:255],
            state=transition(None, Event.REQUEST),
            rows_total=rows,
            created_by=actor,
            expires_at=timezone.now() + datetime.timedelta(hours=keep_hours()),
        )
        job.save(force_insert=True)
        audit_record(
            actor=actor,
            action="export.request",
            object_type="export",
            object_id=job.pk,
            detail=_detail(job, rows),
        )
    if enqueue:
        # Not at the top: the task module imports this one to run the job.
        from xueji.exports.tasks import run_export

        run_export.enqueue(str(job.pk))
        job.refresh_from_db()
    return job


def _selection_of(job: ExportJob) -> Selection:
    criteria = json.loads(decrypt(job.criteria_sealed, context=CRITERIA_CONTEXT))
    if job.table == "roster":
        return roster_selection(job.created_by, int(criteria["class_id"]))
    return records_selection(job.created_by, criteria)


class _Progress:
    """Rows written so far, saved every half second with the worker's heartbeat (the page
    polls both)."""

    def __init__(self, job: ExportJob) -> None:
        self.job = job
        self.done = 0
        self.last = time.monotonic()

    def count(self, rows: Iterable[Any]) -> Iterator[Any]:
        for row in rows:
            yield row
            self.done += 1
            now = time.monotonic()
            if now - self.last >= PROGRESS_EVERY_SECONDS:
                self.last = now
                ExportJob.objects.filter(pk=self.job.pk).update(
                    rows_done=self.done, heartbeat_at=timezone.now()
                )


def _write(job: ExportJob, selection: Selection, progress: _Progress) -> tuple[int, int]:
    """The job's file written, sealed (xueji.exports.storage); its rows and its size."""
    lines = table_cells(
        RECORD_COLUMNS,
        progress.count(record_rows(selection.students, job.reveal)),
        reveal=job.reveal,
    )
    if job.fmt == "xlsx":
        with plaintext_workbook(job.pk, job.fmt) as path:
            rows = max(write_xlsx(str(path), lines, sheet=job.name) - 1, 0)
            size = path.stat().st_size
        return rows, size
    size = 0
    with sealed_export(job.pk, job.fmt) as out:
        for chunk in csv_chunks(lines):
            out.write(chunk)
            size += len(chunk)
    return progress.done, size


def _fail(job_id: Any, message: Any) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        job.state = transition(job.state, Event.FAIL)
        job.message, job.message_en = in_both_languages(message)
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "message", "message_en", "finished_at"])
        audit_record(
            actor=job.created_by,
            action="export.fail",
            object_type="export",
            object_id=job.pk,
            detail={"table": job.name, "format": job.fmt, "reason": job.message_en},
        )
    return job


def _refusal(error: Exception) -> Any:
    if isinstance(error, InvalidCriteria):
        reasons = "; ".join(str(m) for ms in error.form.errors.values() for m in ms)
        return translated(
            _("The search criteria are no longer valid: %(reasons)s"), {"reasons": reasons}
        )
    if isinstance(error, NoSuchSchool):
        return error.message
    if isinstance(error, NoSuchClass):
        return _("The class is no longer one you may see.")
    if isinstance(error, PermissionRefused):
        return _("Your role no longer allows this export.")
    return _("The file could not be written; nothing is kept. Ask for the export again.")


def export_job_run(*, job_id: Any) -> ExportJob:
    """Write a queued export's file as its requester (their area and permissions as they are
    now, in the language they asked in); a job already started is left alone."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("created_by").get(pk=job_id)
        if job.state != ExportState.QUEUED:
            return job
        job.state = transition(job.state, Event.START)
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["state", "heartbeat_at"])
    try:
        with translation.override(job.language):
            require_export(job.created_by, job.fmt, job.reveal)
            selection = _selection_of(job)
            job.rows_total = selection.count()
            ExportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
            # The file holds children's records: sealed with the field keys, readable by the
            # service's account alone from its first byte (xueji.exports.storage).
            rows, size = _write(job, selection, _Progress(job))
    except (InvalidCriteria, NoSuchSchool, NoSuchClass, PermissionRefused) as refused:
        remove_export(job.pk, "", job.fmt)
        return _fail(job.pk, _refusal(refused))
    except Exception as error:
        remove_export(job.pk, "", job.fmt)
        logger.exception("export %s failed", job.pk)
        return _fail(job.pk, _refusal(error))
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("created_by").get(pk=job.pk)
        job.state = transition(job.state, Event.FINISH)
        job.stored_path = stored_name(job.pk, job.fmt)
        job.size = size
        job.rows_total = job.rows_done = rows
        job.finished_at = timezone.now()
        job.save(
            update_fields=["state", "stored_path", "size", "rows_total", "rows_done", "finished_at"]
        )
        # The export itself, as an export answered at once records it: the rows are now out.
        audit_record(
            actor=job.created_by,
            action="export",
            object_type="export",
            object_id=job.pk,
            detail=_detail(job, rows),
        )
    return job


@dataclass(frozen=True)
class ExportDownload:
    filename: str
    content_type: str
    fmt: str
    job_id: Any
    stored_path: str

    def open(self) -> IO[bytes]:
        """The file's plaintext, decrypted as it is read (FileTampered if it was altered)."""
        return open_export(self.job_id, self.stored_path)


def _may_download(actor: Any, job: ExportJob) -> bool:
    scope = scope_of(actor)
    return may_download(
        requester_id=job.created_by_id,
        user_id=actor.pk,
        may_export=may(scope, Action.EXPORT),
        may_reveal=may(scope, Action.STUDENT_REVEAL_ID),
        revealed=job.reveal,
    )


def export_job_download(*, actor: Any, job_id: Any) -> ExportDownload:
    """The written file of the actor's own export, while it is kept; every download is
    recorded in the audit trail. Someone else's export is not found."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not _may_download(actor, job):
            raise NotFound("export_not_found", _("There is no such export of yours."))
        if job.state != ExportState.READY or job.expires_at <= timezone.now():
            raise Conflict(
                "export_not_ready",
                _("This file is not ready, or was deleted after its download period."),
            )
        try:
            verify_export(job.pk, job.stored_path)
        except (FileTampered, OSError):
            logger.error("export %s: the kept file is missing or does not authenticate", job.pk)
            raise Conflict(
                "export_damaged", _("The kept file is damaged; ask for the export again.")
            ) from None
        job.downloads += 1
        job.save(update_fields=["downloads"])
        audit_record(
            actor=actor,
            action="export.download",
            object_type="export",
            object_id=job.pk,
            detail={"table": job.name, "format": job.fmt, "rows": job.rows_total,
                    "revealed": job.reveal},
        )  # fmt: skip
    return ExportDownload(
        filename=job.name,
        content_type=FORMATS[job.fmt],
        fmt=job.fmt,
        job_id=job.pk,
        stored_path=job.stored_path,
    )


def export_jobs_purge(*, actor: Any) -> int:
    """Delete the files of exports past their download period (a job the worker never
    finished by then is marked failed); the jobs stay, expired, for the audit trail's links."""
    now = timezone.now()
    purged = 0
    with transaction.atomic():
        for job in ExportJob.objects.select_for_update().filter(
            expires_at__lte=now,
            state__in=[ExportState.QUEUED, ExportState.RUNNING, ExportState.READY,
                       ExportState.FAILED],
        ):  # fmt: skip
            if job.state in (ExportState.QUEUED, ExportState.RUNNING):
                # The worker stopped (or never came): what it may have half-written goes too.
                remove_export(job.pk, "", job.fmt)
                job.state = transition(job.state, Event.FAIL)
                job.message, job.message_en = in_both_languages(
                    _("The file was not written within its download period.")
                )
            if job.stored_path:
                (export_dir() / job.stored_path).unlink(missing_ok=True)
                purged += 1
            job.state = transition(job.state, Event.EXPIRE)
            job.stored_path = ""
            job.save(update_fields=["state", "stored_path", "message", "message_en"])
        audit_record(actor=actor, action="export.purge", detail={"files": purged})
    return purged
