"""Every write of an import: the upload (checked, stored, queued) and the run (all or nothing)."""

from __future__ import annotations

import datetime
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from xueji.access.lookups import LookupAsked, LookupKind, LookupOutcome, lookup_answers
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, may_at_school, require
from xueji.audit.services import audit_record
from xueji.core.errors import NotFound, ServiceError, translated
from xueji.core.jobs import in_both_languages
from xueji.imports import columns as cols
from xueji.imports import safety
from xueji.imports.models import ImportJob, JobState
from xueji.imports.pipeline import (
    HeaderError,
    Layout,
    Outcome,
    cell_error,
    check_workers,
    import_intake_rows,
    import_students_rows,
    import_updates_rows,
    row_chunks,
)
from xueji.imports.reading import Sheet, open_sheet, refusal_of
from xueji.imports.selectors import (
    NOT_AN_ENTRY_SCHOOL,
    admits_graduates,
    prefill_allowed,
    prefill_class_get,
    prefill_classes,
    prefill_students,
)
from xueji.imports.storage import (
    SEALED_SUFFIX,
    import_dir,
    remove_upload,
    seal_legacy_upload,
    store_upload,
    stored_source,
)
from xueji.imports.workbooks import write_template
from xueji.imports.xlsx import UnreadableSheet
from xueji.schools.models import School, SchoolClass, grade_label
from xueji.schools.selectors import shown_academic_year
from xueji.students.identity import STUDENT_NUMBER, unseal

# The action a purpose needs at the school.
PURPOSE_ACTION = {
    cols.STUDENTS: Action.STUDENT_REGISTER,
    cols.UPDATES: Action.STUDENT_EDIT_OTHER_INFO,
    cols.INTAKE: Action.INTAKE_ADMIT,
}
IMPLEMENTED = cols.PURPOSES
RETENTION_DAYS = 30


def _school_of(actor: Any, purpose: str) -> School:
    if purpose not in IMPLEMENTED:
        raise ServiceError("purpose_unavailable", _("Imports of this kind are not available yet."))
    scope = require(actor, PURPOSE_ACTION[purpose])
    if scope.school_id is None or not may_at_school(
        scope, PURPOSE_ACTION[purpose], scope.school_id
    ):
        raise NotFound("school_not_found", _("Imports are made by a school's registrar."))
    school = School.objects.get(pk=scope.school_id)
    if purpose == cols.INTAKE and not admits_graduates(school):
        raise ServiceError("not_an_entry_school", NOT_AN_ENTRY_SCHOOL)
    return school


def _already(job: ImportJob) -> Any:
    local = timezone.localtime(job.finished_at or job.created_at)
    return translated(
        _("This file was already imported on %(when)s by %(who)s; nothing was written again."),
        {"when": f"{local:%Y-%m-%d %H:%M}", "who": job.created_by.get_username()},
    )


def _say(job: ImportJob, message: Any) -> None:
    """The job's message, kept in Chinese and in English (each reader sees their language)."""
    job.message, job.message_en = in_both_languages(message)


def import_job_create(
    *,
    actor: Any,
    purpose: str,
    upload: IO[bytes],
    filename: str,
    size: int,
    enqueue: bool = True,
) -> ImportJob:
    """Check an uploaded file (size, kind, zip bomb, XML entities), keep it and queue its import
    (enqueue=False: the caller runs import_job_run itself, as the CLI does); a file already
    imported for the school and purpose is refused at once."""
    school = _school_of(actor, purpose)
    sniffed = safety.check_upload(upload, size, filename=filename)
    digest = hashlib.sha256()
    upload.seek(0)
    while chunk := upload.read(1024 * 1024):
        digest.update(chunk)
    sha256 = digest.hexdigest()
    upload.seek(0)
    with transaction.atomic():
        job = ImportJob(
            school=school,
            purpose=purpose,
            sha256=sha256,
            filename=Path(filename).name[:255],
            kind=sniffed.kind if not sniffed.encoding else f"csv:{sniffed.encoding}",
            size=size,
            created_by=actor,
        )
        previous = (
            ImportJob.objects.select_related("created_by")
            .filter(school=school, purpose=purpose, sha256=sha256, state=JobState.IMPORTED)
            .first()
        )
        if previous is not None:
            job.state = JobState.DUPLICATE
            _say(job, _already(previous))
            job.finished_at = timezone.now()
        else:
            # Sealed with the field keys, 0600 in a 0700 folder: it holds ID numbers.
            job.stored_path = store_upload(job_id=job.pk, kind=sniffed.kind, upload=upload)
        job.save(force_insert=True)
        audit_record(
            actor=actor,
            action="import.upload",
            object_type="import",
            object_id=job.pk,
            detail={
                "school": school.code,
                "purpose": purpose,
                "sha256": sha256,
                "filename": job.filename,
                "size": size,
                "duplicate": previous is not None,
            },
        )
    if job.state == JobState.QUEUED and enqueue:
        # Not at the top: the task module imports this one to run the job.
        from xueji.imports.tasks import run_import

        run_import.enqueue(str(job.pk))
        job.refresh_from_db()
    return job


class _Progress:
    """Progress written through a connection of its own, so that pages polling the job see it
    while the import's transaction is still open (PostgreSQL; SQLite shows it at the end)."""

    def __init__(self, job: ImportJob, echo: Callable[[int, int], None] | None) -> None:
        self.job = job
        self.echo = echo
        self.last = 0.0
        self.raw: Any = None
        if connection.vendor == "postgresql":
            try:
                self.raw = connection.get_new_connection(connection.get_connection_params())
                self.raw.autocommit = True
            except Exception:  # progress is a courtesy; the import does not depend on it
                self.raw = None

    def __call__(self, done: int) -> None:
        if self.echo is not None:
            self.echo(done, self.job.rows_total)
        now = time.monotonic()
        if self.raw is None or now - self.last < 0.5:
            return
        self.last = now
        with self.raw.cursor() as cursor:
            cursor.execute(
                "UPDATE imports_importjob SET rows_done = %s WHERE id = %s",
                [done, self.job.pk],
            )

    def writing(self, count: int) -> None:
        """Every row is checked; the records are being written (a long file takes a while)."""
        message = translated(
            _("Every row is checked; writing %(count)d records."), {"count": count}
        )
        writing = getattr(self.echo, "writing", None)
        if writing is not None:
            writing(str(message))
        if self.raw is not None:
            with self.raw.cursor() as cursor:
                cursor.execute(
                    "UPDATE imports_importjob SET rows_done = rows_total, message = %s, "
                    "message_en = %s WHERE id = %s",
                    [*in_both_languages(message), self.job.pk],
                )

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()


def import_job_run(*, job_id: Any, echo: Callable[[int, int], None] | None = None) -> ImportJob:
    """Check every row of a queued import and write it, all or nothing, in one transaction."""
    job = ImportJob.objects.select_related("school", "created_by").get(pk=job_id)
    if job.state != JobState.QUEUED:
        return job
    job.state = JobState.RUNNING
    job.save(update_fields=["state"])
    source = stored_source(job_id=job.pk, stored_path=job.stored_path)
    kind, _sep, encoding = job.kind.partition(":")
    try:
        sheet = open_sheet(source, safety.Sniffed(kind, encoding))
    except ServiceError as refused:  # unreadable: nothing to check
        job.state = JobState.INVALID
        _say(job, refused.message)
        job.finished_at = timezone.now()
        _finish_refused(job)
        return job
    job.rows_total = sheet.total
    job.header = [cols.text_of(cell) for cell in sheet.header]
    job.save(update_fields=["rows_total", "header"])
    progress = _Progress(job, echo)
    actor = job.created_by
    outcome = None
    try:
        layout = Layout.of(job.purpose, sheet.header)
        with transaction.atomic():
            outcome = _run_rows(job, layout, sheet, progress)
            job.rows_total = outcome.rows
            job.rows_done = outcome.rows
            job.error_count = outcome.error_count
            job.errors = [error.compact() for error in outcome.errors]
            job.finished_at = timezone.now()
            if outcome.error_count or not outcome.rows:
                transaction.set_rollback(True)
            else:
                job.state = JobState.IMPORTED
                if layout.unused:
                    _say(job, _not_read(layout.unused))
                job.rows_written = outcome.written
                job.classes = sorted([pk, count] for pk, count in outcome.classes.items())
                try:
                    with transaction.atomic():
                        job.save()
                except IntegrityError:
                    # The same file was imported by a concurrent upload: it won, this one writes
                    # nothing (the unique index decided).
                    transaction.set_rollback(True)
                    job.state = JobState.DUPLICATE
                else:
                    audit_record(
                        actor=actor,
                        action=f"import.{job.purpose}",
                        object_type="import",
                        object_id=job.pk,
                        detail={
                            "school": job.school.code,
                            "sha256": job.sha256,
                            "filename": job.filename,
                            "rows": outcome.rows,
                            "written": outcome.written,
                            "family_members": outcome.family_members,
                            "classes": job.classes,
                        },
                    )
    except (HeaderError, ServiceError) as refused:
        job.state = JobState.INVALID
        _say(job, refused.message)
        job.finished_at = timezone.now()
    except IntegrityError:
        # A concurrent import of the same file, or a registration of one of its children, wrote
        # first: the database's unique indexes decided, and this file writes nothing.
        job.rows_written = 0
        job.finished_at = timezone.now()
        job.state = JobState.DUPLICATE
        if not _imported_before(job):
            job.state = JobState.INVALID
            _say(
                job,
                _(
                    "A child of this file was registered by someone else meanwhile; nothing was "
                    "written. Upload the file again to see which rows."
                ),
            )
    except Exception as error:
        job.state = JobState.FAILED
        _say(job, f"{type(error).__name__}: {error}")
        job.finished_at = timezone.now()
        job.classes = []
        job.rows_written = 0
        _finish_refused(job)
        raise
    finally:
        progress.close()
    if job.state == JobState.IMPORTED:
        return job
    # Whatever the outcome had counted was rolled back with the rows: a refused job links nothing.
    job.classes = []
    if outcome is not None and outcome.error_count and _imported_before(job):
        # A concurrent upload of the same file committed before this one asked the registry
        # about its children: they are "already registered" only because the file is.
        job.state = JobState.DUPLICATE
        job.error_count = 0
        job.errors = []
    limit_reached = None
    if outcome is not None and outcome.lookups and job.state == JobState.RUNNING:
        # The rows that hold other schools' children answer look-ups: counted now that the
        # import's transaction is over, and shown only within the hour's allowance.
        limit_reached = _answer_lookups(job, outcome)
        job.error_count = outcome.error_count
        job.errors = [error.compact() for error in outcome.errors]
    if limit_reached is not None:
        job.state = JobState.INVALID
        job.rows_written = 0
        _say(job, limit_reached)
    elif outcome is not None and not outcome.rows and not outcome.error_count:
        # Nothing below the header (or only blank rows, or separators): nothing to import is
        # a failure to say, not an import of nothing.
        job.state = JobState.FAILED
        job.rows_written = 0
        _say(
            job,
            _(
                "The file has no rows to import: nothing below the header row holds a value. "
                "Nothing was written; fill in the rows below the header and upload it again."
            ),
        )
    elif job.state == JobState.DUPLICATE:
        previous = _imported_before(job)
        _say(job, _already(previous) if previous else "")
        job.rows_written = 0
    elif outcome is not None and outcome.error_count:
        job.state = JobState.INVALID
        job.rows_written = 0
        _say(
            job,
            translated(
                _("%(count)d problems found in %(rows)d rows; nothing was written."),
                {"count": outcome.error_count, "rows": outcome.rows},
            ),
        )
    _finish_refused(job)
    return job


# A sheet's first row below its header (the header is row 1).
FIRST_DATA_ROW = 2


def _answer_lookups(job: ImportJob, outcome: Outcome) -> Any | None:
    """Count the rows that hold another school's child as the importer's look-ups (one audited
    entry each, about that child: xueji.access.lookups) and keep the errors of those the hour
    allows, in the sheet's order. The rest are withheld: taken out of the errors and their count,
    so that no row below the last answer tells whether its number is registered, and the rows
    from there on are refused as "look-up limit reached" (the refusal reported to the auditors).
    Returns the job's message then, else None."""
    shown = [lookup for lookup in outcome.lookups if lookup.error is not None]
    # Errors past those kept are not shown: not answered, so neither counted nor in the count.
    outcome.withhold(lookup for lookup in outcome.lookups if lookup.error is None)
    outcome.lookups = []
    counted = lookup_answers(
        actor=job.created_by,
        kind=LookupKind.IMPORT,
        asked=[
            LookupAsked(
                outcome=(
                    LookupOutcome.SCHOOL_NAMED
                    if lookup.school_named
                    else LookupOutcome.REGISTERED_ELSEWHERE
                ),
                object_id=lookup.student_id,
                detail={
                    "import": str(job.pk),
                    "row": lookup.row,
                    "id_number": lookup.id_number_masked,
                },
            )
            for lookup in shown
        ],
        refusal_detail={"import": str(job.pk), "school": job.school.code},
    )
    if counted.refused is None or counted.retry_at is None:
        return None
    outcome.withhold(shown[counted.answered :])
    from_row = shown[counted.answered - 1].row + 1 if counted.answered else FIRST_DATA_ROW
    limit = counted.refused.details["limit"]
    time = timezone.localtime(counted.retry_at).strftime("%H:%M")
    outcome.add_error(
        cell_error(
            from_row,
            -1,
            "",
            ValidationError(
                _(
                    "Look-up limit reached: this row and the rows below it were not checked "
                    "against other schools' records. Upload the file again after %(time)s."
                ),
                code="lookup_limit_reached",
                params={"time": time},
            ),
        )
    )
    outcome.sort_errors()
    return translated(
        _(
            "Look-up limit reached: rows from %(row)d on were not checked against other "
            "schools' records (each user may look up %(limit)d children registered at other "
            "schools in an hour; every refusal is reported to the auditors). Nothing was "
            "written; upload the file again after %(time)s."
        ),
        {"row": from_row, "limit": limit, "time": time},
    )


def _not_read(columns: list[str]) -> Any:
    """What an import says of the columns it read past (items of the national form the
    registry does not keep, another template's columns): named, never silently ignored."""
    return translated(
        _("Imported. These columns were not read (the registry does not keep them): %(columns)s."),
        {"columns": "、".join(columns)},
    )


def _imported_before(job: ImportJob) -> ImportJob | None:
    return (
        ImportJob.objects.select_related("created_by")
        .filter(school=job.school, purpose=job.purpose, sha256=job.sha256, state=JobState.IMPORTED)
        .exclude(pk=job.pk)
        .first()
    )


def _run_rows(job: ImportJob, layout: Layout, sheet: Sheet, progress: Any) -> Outcome:
    if job.purpose == cols.INTAKE:
        return import_intake_rows(
            rows=sheet.rows,
            layout=layout,
            school=job.school,
            actor=job.created_by,
            progress=progress,
        )
    if job.purpose == cols.UPDATES:
        return import_updates_rows(
            rows=sheet.rows,
            layout=layout,
            school=job.school,
            actor=job.created_by,
            progress=progress,
        )
    year = shown_academic_year(job.school_id)
    if year is None:
        raise ServiceError("no_academic_year", _("The school has no classes this year."))
    try:
        return _run_students(job, layout, sheet, year, progress)
    except UnreadableSheet as error:  # a slice of an .xlsx, read by a worker
        raise refusal_of(error) from None


def _run_students(
    job: ImportJob, layout: Layout, sheet: Sheet, year: Any, progress: Any
) -> Outcome:
    return import_students_rows(
        chunks=sheet.blocks if sheet.blocks is not None else row_chunks(sheet.rows),
        encoding=sheet.encoding,
        workbook=sheet.workbook,
        layout=layout,
        school=job.school,
        academic_year=year,
        actor=job.created_by,
        start_date=timezone.localdate(),
        progress=progress,
        on_writing=progress.writing,
        workers=check_workers(sheet.total),
    )


def _finish_refused(job: ImportJob) -> None:
    with transaction.atomic():
        job.save()
        audit_record(
            actor=job.created_by,
            action="import.refused",
            object_type="import",
            object_id=job.pk,
            detail={
                "school": job.school.code,
                "sha256": job.sha256,
                "state": job.state,
                "rows": job.rows_total,
                "errors": job.error_count,
            },
        )


def import_jobs_purge(*, actor: Any, older_than_days: int = RETENTION_DAYS) -> int:
    """Delete kept uploads past the retention; the jobs and their errors stay. Uploads kept in
    plaintext before sealing began are sealed."""
    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    purged = sealed = 0
    with transaction.atomic():
        for job in (
            ImportJob.objects.select_for_update()
            .filter(created_at__lt=cutoff, finished_at__isnull=False)
            .exclude(stored_path="")
        ):
            remove_upload(job.stored_path)
            job.stored_path = ""
            job.save(update_fields=["stored_path"])
            purged += 1
        for job in (
            ImportJob.objects.select_for_update()
            .exclude(stored_path="")
            .exclude(stored_path__endswith=SEALED_SUFFIX)
        ):
            if (import_dir() / job.stored_path).exists():
                job.stored_path = seal_legacy_upload(job_id=job.pk, stored_path=job.stored_path)
                job.save(update_fields=["stored_path"])
                sealed += 1
        audit_record(actor=actor, action="import.purge", detail={"files": purged, "sealed": sealed})
    return purged


@dataclass(frozen=True)
class PrefilledTemplate:
    """What import_template_prefill wrote: the school, the class (None: the whole school) and
    the number of students."""

    school: School
    school_class: SchoolClass | None
    rows: int


def import_template_prefill(
    *, actor: Any, class_id: int | None, out: IO[bytes]
) -> PrefilledTemplate:
    """Write the updates template filled in with a class's (or the school's) students to `out`."""
    # The registrars see masked student numbers only, and the updates import finds a student
    # by the full number: the file gives them in full, so it is a reveal, audited as one.
    scope = require(actor, Action.IMPORT_RUN)
    if not prefill_allowed(scope):
        # The file holds student numbers in full: without the reveal, only the blank template.
        raise PermissionRefused(
            "forbidden",
            _("Your role may not see student numbers in full; use the blank template."),
            action=Action.STUDENT_REVEAL_ID,
        )
    assert scope.school_id is not None  # prefill_allowed: a school's scope
    school = School.objects.get(pk=scope.school_id)
    school_class = None
    if class_id is not None:
        school_class = prefill_class_get(actor, class_id)
        if school_class is None:
            raise NotFound("class_not_found", _("Your school has no such class."))
    where = f"{school.name}{_class_label(school_class) if school_class else '全校'}"
    notes = [
        f"本文件已预填{where}现有学生的登记信息（{timezone.localdate():%Y-%m-%d} 导出），"
        "每行一名学生，含完整的全国学籍号。",
        "只需修改有变化的单元格，然后上传（导入类型选“非基础信息更新”）；"
        "未改动的行导入时报告为没有改动，不写入任何内容。",
        "留空的单元格表示不修改：清空单元格不会删除已登记的内容。",
        "本文件不含任何身份证件号码：学生及家庭成员的证件号码不属于本模板，也不预填。",
        "完整学籍号属于个人信息：本次下载已记入审计日志，请妥善保管，上传后删除本文件。",
    ]
    classes = [(c.grade, c.number, c.name) for c in prefill_classes(actor) or []]
    with tempfile.TemporaryDirectory() as tmp, transaction.atomic():
        target = Path(tmp) / "prefilled.xlsx"
        rows = write_template(
            target,
            cols.UPDATES,
            classes=classes,
            rows=_prefill_rows(prefill_students(actor, school_id=school.pk, class_id=class_id)),
            notes=notes,
        )
        with target.open("rb") as written:
            shutil.copyfileobj(written, out, 1024 * 1024)
        audit_record(
            actor=actor,
            action="import.template_prefill",
            detail={
                "school": school.code,
                "class": None if school_class is None else school_class.pk,
                "class_name": "" if school_class is None else _class_label(school_class),
                "rows": rows,
                "revealed": True,
            },
        )
    return PrefilledTemplate(school=school, school_class=school_class, rows=rows)


def _class_label(school_class: SchoolClass) -> str:
    """一年级1班: the grade's everyday name and the class's, in Chinese as the template is."""
    with translation.override("zh-hans"):
        return f"{grade_label(school_class.grade)}{school_class.name}"


def _prefill_rows(students: Any) -> Iterator[dict[str, Any]]:
    """The template's rows, read in chunks (a server-side cursor on PostgreSQL), each student
    number unsealed as it is written."""
    for row in students.iterator(chunk_size=2_000):
        row["student_number"] = unseal(row.pop("number_sealed"), context=STUDENT_NUMBER)
        yield row
