"""Files made for a user: a template with the school's classes, an import's error report."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import may_at_school, require, scope_of
from xueji.audit.services import audit_record
from xueji.core.errors import ServiceError
from xueji.core.exports import mask_document_number, mask_identifiers
from xueji.imports import columns as cols
from xueji.imports import safety
from xueji.imports.models import ImportJob
from xueji.imports.pipeline import CellError
from xueji.imports.reading import open_sheet
from xueji.imports.selectors import NOT_AN_ENTRY_SCHOOL, import_purposes
from xueji.imports.storage import stored_exists, stored_source
from xueji.imports.workbooks import error_report_xlsx, template_xlsx
from xueji.schools.models import SchoolClass
from xueji.schools.selectors import shown_academic_year


def template_for(user: Any, purpose: str) -> bytes:
    """The template of a purpose; a school's copy lists its classes of the year."""
    scope = require(user, Action.IMPORT_RUN)
    if purpose not in dict(import_purposes(user)):
        raise ServiceError("not_an_entry_school", NOT_AN_ENTRY_SCHOOL)
    classes: list[tuple[int, int, str]] = []
    if scope.school_id is not None:
        year = shown_academic_year(scope.school_id)
        if year is not None:
            classes = list(
                SchoolClass.objects.filter(school_id=scope.school_id, academic_year=year)
                .order_by("grade", "number")
                .values_list("grade", "number", "name")
            )
    return template_xlsx(purpose, classes=classes)


def error_report_file(user: Any, job: ImportJob, out: IO[bytes]) -> None:
    """Write the error report of an import the user may see (selectors decided) into `out`.

    The school's own registrar gets the cells as uploaded, to fix them in Excel; anyone else
    (the county) gets ID numbers masked. Recorded in the audit trail."""
    if not job.errors:
        raise ServiceError("no_errors", _("This import has no errors to report."))
    if not stored_exists(job.stored_path):
        raise ServiceError(
            "file_purged", _("The uploaded file is no longer kept; the errors are listed below.")
        )
    reveal = may_at_school(scope_of(user), Action.STUDENT_REVEAL_ID, job.school_id)
    kind, _sep, encoding = job.kind.partition(":")
    sheet = open_sheet(
        stored_source(job_id=job.pk, stored_path=job.stored_path), safety.Sniffed(kind, encoding)
    )
    rows = sheet.rows
    if not reveal:
        # An ID number column is masked whatever it holds (a mistyped number, a number Excel
        # stored as a number); any other cell where it holds an ID number or a run of digits.
        documents = cols.document_columns(sheet.header)
        rows = (
            (
                number,
                [
                    mask_document_number(cols.text_of(v))
                    if c in documents
                    else mask_identifiers(cols.text_of(v))
                    if isinstance(v, str | int | float)
                    else v
                    for c, v in enumerate(cells)
                ],
            )
            for number, cells in rows
        )
    errors = [CellError.of(item) for item in job.errors]
    if not reveal:
        errors = [
            CellError(
                e.row, e.column, mask_identifiers(e.value), e.code, e.message_zh, e.message_en
            )
            for e in errors
        ]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "report.xlsx"
        error_report_xlsx(target, header=sheet.header, rows=rows, errors=errors)
        with target.open("rb") as written:
            while chunk := written.read(1024 * 1024):
                out.write(chunk)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="import.error_report",
            object_type="import",
            object_id=job.pk,
            detail={"school": job.school.code, "errors": len(errors), "revealed": reveal},
        )
