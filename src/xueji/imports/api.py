"""API of spreadsheet imports: upload a file (multipart), follow its job, read its errors."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import COMMON_ERRORS, ErrorOut, NonEmptyUploadedFile, Offset, caller
from xueji.core.errors import NotFound
from xueji.imports.models import ImportJob, JobState
from xueji.imports.pipeline import CellError
from xueji.imports.reports import template_for
from xueji.imports.selectors import import_job_get, import_jobs_visible
from xueji.imports.services import import_job_create

router = Router(tags=["imports"])

RESPONSES: dict[int, Any] = {404: ErrorOut, **COMMON_ERRORS}
ERRORS_RETURNED = 10_000
JOBS_LIMIT_MAX = 200
# The kinds of import (xueji.imports.columns.PURPOSES).
Purpose = Literal["students", "updates", "intake"]


class ImportParams(Schema):
    state: JobState | None = Field(None, description="Only imports in this state.")
    purpose: Purpose | None = Field(None, description="Only imports of this kind.")
    school: str = Field(
        "",
        max_length=64,
        description="The school's 10-digit code or the start of it, or any part of its name.",
    )
    limit: int = Field(JOBS_LIMIT_MAX, ge=1, le=JOBS_LIMIT_MAX)  # 200: what the list gave before
    offset: Offset = 0


class ErrorItemOut(Schema):
    row: int
    column: str
    value: str
    code: str
    message: str


class JobOut(Schema):
    id: uuid.UUID
    school: str
    purpose: str
    state: str
    filename: str
    sha256: str
    rows_total: int
    rows_done: int
    rows_written: int
    error_count: int
    message: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


class ImportedClassOut(Schema):
    class_id: int
    count: int


class JobDetailOut(JobOut):
    errors: list[ErrorItemOut]
    classes: list[ImportedClassOut] = Field(
        description="Records written per class (an updates import: updated, by current class)."
    )


def _job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "school": job.school.code,
        "purpose": job.purpose,
        "state": job.state,
        "filename": job.filename,
        "sha256": job.sha256,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "rows_written": job.rows_written,
        "error_count": job.error_count,
        "message": job.message_shown,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def _detail(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    english = not (getattr(request, "LANGUAGE_CODE", "zh-hans") or "zh").startswith("zh")
    header = job.header
    errors = []
    for item in job.errors[:ERRORS_RETURNED]:
        e = CellError.of(item)
        errors.append(
            {
                "row": e.row,
                "column": header[e.column] if 0 <= e.column < len(header) else "",
                "value": e.value,
                "code": e.code,
                "message": e.message_en if english else e.message_zh,
            }
        )
    classes = [{"class_id": pk, "count": count} for pk, count in job.classes]
    return {**_job_out(job), "errors": errors, "classes": classes}


@router.get("/", response={200: list[JobOut], **RESPONSES}, summary="Imports in your area")
@endpoint_requires(Action.IMPORT_VIEW)
def list_imports(request: HttpRequest, params: Query[ImportParams]) -> list[dict[str, Any]]:
    """Newest first, by state, kind and school; pages follow `limit` and `offset`."""
    jobs = import_jobs_visible(
        caller(request),
        state=params.state or "",
        purpose=params.purpose or "",
        school=params.school,
    )
    return [_job_out(job) for job in jobs[params.offset : params.offset + params.limit]]


@router.post(
    "/",
    response={201: JobDetailOut, **RESPONSES},
    summary="Upload a file to import (all or nothing; runs in the background)",
)
@endpoint_requires(Action.IMPORT_RUN)
def upload_import(
    request: HttpRequest,
    file: File[NonEmptyUploadedFile],
    purpose: Form[Purpose] = "students",
) -> Status[dict[str, Any]]:
    job = import_job_create(
        actor=caller(request),
        purpose=purpose,
        upload=file,
        filename=file.name or "upload",
        size=file.size or 0,
    )
    return Status(201, _detail(request, job))


@router.get("/{job_id}", response={200: JobDetailOut, **RESPONSES}, summary="One import")
@endpoint_requires(Action.IMPORT_VIEW)
def get_import(request: HttpRequest, job_id: uuid.UUID) -> dict[str, Any]:
    job = import_job_get(caller(request), job_id)
    if job is None:
        raise NotFound("import_not_found", _("No such import."))
    return _detail(request, job)


@router.get(
    "/templates/{purpose}",
    response={200: None, **RESPONSES},
    summary="The .xlsx template of a kind of import",
)
@endpoint_requires(Action.IMPORT_RUN)
def get_template(request: HttpRequest, purpose: Purpose) -> HttpResponse:
    response = HttpResponse(
        template_for(caller(request), purpose),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="xueji-{purpose}-template.xlsx"'
    return response
