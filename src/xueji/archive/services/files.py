"""The electronic files (电子学籍档案) as background jobs: one child's, or a class's (each child
from a new page). The job reads the archive as its requester may (the same selectors as the
pages), writes the PDF sealed at rest (xueji.core.filecrypt, XUEJI_ARCHIVE_DIR), counts its
progress per child; only the requester downloads it, and every download is audited."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.archive.models import FileJob, FileJobState
from xueji.archive.selectors import archive_of, students_reached
from xueji.audit.services import audit_record
from xueji.core import filecrypt
from xueji.core.errors import Conflict, NotFound
from xueji.schools.models import SchoolClass


def archive_dir() -> Path:
    path = Path(getattr(settings, "XUEJI_ARCHIVE_DIR", Path(settings.VAR_DIR) / "archive"))
    return filecrypt.private_folder(path)


def _context(job_id: Any) -> str:
    return f"archive.file:{job_id}"


def _class_students(school_class_id: Any, actor: Any) -> list[Any]:
    """The class's current children that the requester reaches, in the roster's order."""
    return list(
        students_reached(actor, Action.ARCHIVE_FILE)
        .filter(placements__school_class_id=school_class_id, placements__end_date__isnull=True)
        .order_by("name_pinyin", "id")
        .values_list("pk", flat=True)
    )


def file_job_create(
    *, actor: Any, student_id: Any = None, school_class_id: Any = None, enqueue: bool = True
) -> FileJob:
    """Queue the electronic file of one child or of a class the requester reaches."""
    require(actor, Action.ARCHIVE_FILE)
    if student_id is not None:
        if not students_reached(actor, Action.ARCHIVE_FILE).filter(pk=student_id).exists():
            raise NotFound("student_not_found", _("No such student in your area."))
        total = 1
    else:
        school_class = SchoolClass.objects.filter(pk=school_class_id).first()
        children = _class_students(school_class_id, actor) if school_class else []
        if not children:
            raise NotFound("class_not_found", _("No such class in your area."))
        total = len(children)
    with transaction.atomic():
        job = FileJob.objects.create(
            student_id=student_id,
            school_class_id=None if student_id is not None else school_class_id,
            rows_total=total,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="archive.file_request",
            object_type="student" if student_id else "class",
            object_id=student_id,
            detail={"job": str(job.pk), "class": school_class_id, "children": total},
        )
    if enqueue:
        from xueji.archive.tasks import run_file_job

        run_file_job.enqueue(str(job.pk))
        job.refresh_from_db()
    return job


def file_job_run(*, job_id: Any) -> FileJob:
    """Write the job's PDF (the worker runs it; tests run it at once)."""
    from xueji.archive.pdf.electronic_file import electronic_file_pdf

    job = FileJob.objects.select_related("created_by").get(pk=job_id)
    if job.state != FileJobState.QUEUED:
        return job
    FileJob.objects.filter(pk=job.pk).update(state=FileJobState.RUNNING)
    actor = job.created_by
    ids = [job.student_id] if job.student_id else _class_students(job.school_class_id, actor)
    last = {"saved": timezone.now()}

    def progress(done: int) -> None:
        now = timezone.now()
        if now - last["saved"] > datetime.timedelta(seconds=0.5) or done == len(ids):
            FileJob.objects.filter(pk=job.pk).update(rows_done=done)
            last["saved"] = now

    try:
        archives = (archive_of(actor, student_id) for student_id in ids)
        pdf, pages = electronic_file_pdf(
            (archive for archive in archives if archive is not None), progress
        )
        name = f"{job.pk}.pdf.sealed"
        with filecrypt.encrypted_file(archive_dir() / name, context=_context(job.pk)) as out:
            out.write(pdf)
    except Exception as error:  # the job says it failed; the worker logs the error
        FileJob.objects.filter(pk=job.pk).update(
            state=FileJobState.FAILED,
            message="生成失败",
            message_en=f"failed: {type(error).__name__}",
            finished_at=timezone.now(),
        )
        raise
    FileJob.objects.filter(pk=job.pk).update(
        state=FileJobState.DONE,
        rows_done=len(ids),
        pages=pages,
        stored_path=name,
        message=f"共 {pages} 页",
        message_en=f"{pages} pages",
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def file_job_of(actor: Any, job_id: Any) -> FileJob | None:
    """A job of the requester (nobody else opens it)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return FileJob.objects.filter(pk=job_id, created_by=actor).first()


def file_job_open(*, actor: Any, job_id: Any) -> IO[bytes]:
    """The finished file's PDF, audited."""
    require(actor, Action.ARCHIVE_FILE)
    job = file_job_of(actor, job_id)
    if job is None:
        raise NotFound("file_not_found", _("No such file of yours."))
    if job.state != FileJobState.DONE:
        raise Conflict("file_not_ready", _("The file is not ready yet."))
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="archive.file_download",
            object_type="student" if job.student_id else "class",
            object_id=job.student_id,
            detail={"job": str(job.pk)},
        )
    return filecrypt.open_encrypted(archive_dir() / job.stored_path, context=_context(job.pk))
