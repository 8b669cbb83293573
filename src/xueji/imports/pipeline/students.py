"""The purpose "new students with their families": every row checked, the file written if it
has no error."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection

from xueji.geo.selectors import division_exists
from xueji.imports.pipeline.cells import CellError, Outcome
from xueji.imports.pipeline.chunk import ChunkContext
from xueji.imports.pipeline.copy_text import now_text
from xueji.imports.pipeline.layout import Layout
from xueji.imports.pipeline.staging import StudentWriter
from xueji.imports.pipeline.workers import checked_chunks
from xueji.imports.xlsx import SlicedWorkbook
from xueji.schools.models import School, SchoolClass


def classes_of(school: School, academic_year: Any) -> dict[tuple[int, int], tuple[int, int]]:
    """The school's classes of the year: (grade, class number) -> (class pk, grade)."""
    return {
        (grade, number): (pk, grade)
        for pk, grade, number in SchoolClass.objects.filter(
            school=school, academic_year=academic_year
        ).values_list("pk", "grade", "number")
    }


def import_students_rows(
    *,
    chunks: Iterable[Any],
    layout: Layout,
    school: School,
    academic_year: Any,
    actor: Any,
    start_date: datetime.date,
    encoding: str = "utf-8",
    workbook: SlicedWorkbook | None = None,
    progress: Callable[[int], None] | None = None,
    on_writing: Callable[[int], None] | None = None,
    workers: int = 1,
) -> Outcome:
    """Check every row and write the file if it has no error; call inside one transaction, and
    roll it back when the outcome has errors. The chunks are CSV blocks (bytes, records numbered
    from row 2), an .xlsx's slices (read with `workbook`) or lists of (row, cells); with
    workers > 1 (PostgreSQL) forked processes read, check and format them, this one stages and
    writes (`on_writing(count)` is called when every row has been checked and the file's
    records are about to be written)."""
    outcome = Outcome.of(layout)
    division_cache: dict[str, bool] = {}

    def known_division(code: str) -> bool:
        found = division_cache.get(code)
        if found is None:
            found = division_cache[code] = division_exists(code)
        return found

    context = ChunkContext(
        layout=layout,
        division_exists=known_division,
        classes=classes_of(school, academic_year),
        year_start=academic_year.start_date,
        school_pk=school.pk,
        school_code=school.code,
        start_date=start_date,
        actor_id=getattr(actor, "pk", None),
        now=now_text(postgres=connection.vendor == "postgresql"),
        import_ms=time.time_ns() // 1_000_000,
        encoding=encoding,
        workbook=workbook,
    )
    id_column = layout.index.get("id_number", -1)
    writer = StudentWriter(school=school, outcome=outcome, id_column=id_column)
    next_record = 2  # a CSV's first record after the header is row 2 of the sheet
    reported = 0
    for result in checked_chunks(chunks, context, workers=workers):
        shift = 0
        if result.records:
            shift = next_record
            next_record += result.records
            for error in result.errors:
                error[0] += shift
        outcome.rows += result.rows
        outcome.add_errors(CellError.of(item) for item in result.errors)
        writer.add(result, shift)
        if progress is not None and outcome.rows - reported >= 1000:
            reported = outcome.rows
            progress(outcome.rows)
    if progress is not None:
        progress(outcome.rows)
    writer.finish(on_writing)
    outcome.sort_errors()  # the duplicates are found after every chunk's own errors
    return outcome
