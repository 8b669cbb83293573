"""New students checked column by column, a chunk of rows at a time, with the registration
form's own rules (xueji.students.validation.validate_student_columns, which the form runs on a
batch of one); the class and the age-for-grade rule are student_register's."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import MISSING
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from xueji.core.idnumbers import mask_id_number
from xueji.imports import columns as cols
from xueji.imports.pipeline.cells import cell_error
from xueji.imports.pipeline.chunk import ChunkContext, ChunkResult
from xueji.imports.pipeline.copy_text import copy_escape
from xueji.imports.pipeline.formatting import format_valid
from xueji.imports.pipeline.layout import Layout
from xueji.imports.reading import nonblank
from xueji.imports.xlsx import XlsxSlice
from xueji.students.identity import document_indexes
from xueji.students.validation import (
    FamilyColumns,
    FamilyMemberData,
    StudentColumns,
    StudentData,
    age_on,
    expected_age_range,
    validate_student_columns,
)

_UNREADABLE = object()
# StudentData's fields the template may leave out, with the value the form would give them.
_STUDENT_DEFAULTS: dict[str, Any] = {
    name: (f.default if f.default is not MISSING else "")
    for name, f in StudentData.__dataclass_fields__.items()
    if name != "family"
}
_MEMBER_DEFAULTS: dict[str, Any] = {
    name: (f.default if f.default is not MISSING else "")
    for name, f in FamilyMemberData.__dataclass_fields__.items()
}
_FEW_VALUES = (cols.CODE, cols.BOOL, cols.INTEGER, cols.DATE, cols.DIVISION)


def _csv_records(block: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(block.decode(encoding), newline="")))


def _blank(cell: Any) -> bool:
    return cell is None or (type(cell) is str and not cell.strip())


def _read_columns(
    layout: Layout, rows: list[tuple[int, list[Any]]]
) -> tuple[dict[str, list[Any]], list[list[Any]]]:
    """Each used field's values (_UNREADABLE where a cell cannot be read), and the unreadable
    cells' errors as compact lists."""
    width = max(layout.index.values()) + 1
    padded = [
        cells if len(cells) >= width else [*cells, *([None] * (width - len(cells)))]
        for _row, cells in rows
    ]
    by_position = list(zip(*padded, strict=True)) if padded else [()] * width
    values: dict[str, list[Any]] = {}
    errors: list[list[Any]] = []
    for f in layout.fields:
        position = layout.index.get(f.key)
        if position is None:
            continue
        column = by_position[position]
        read = cols.reader_of(f)
        bad: dict[Any, ValidationError] = {}
        if f.kind in _FEW_VALUES:
            # Code lists, yes/no, dates and division codes repeat: each distinct cell read once.
            known: dict[Any, Any] = {}
            for cell in set(column):
                if _blank(cell):
                    if not f.required:
                        known[cell] = None  # the form's default, as a blank field of the form
                        continue
                    if f.kind == cols.CODE and not f.key.startswith("family."):
                        known[cell] = _UNREADABLE
                        bad[cell] = ValidationError(_("This cell is required."), code="required")
                        continue
                try:
                    known[cell] = read(cell)
                except cols.Unreadable as unreadable:
                    known[cell] = _UNREADABLE
                    bad[cell] = unreadable.error
            values[f.key] = [known[cell] for cell in column]
        else:
            out: list[Any] = []
            for cell in column:
                if type(cell) is str:
                    out.append(cell.strip())
                    continue
                try:
                    out.append(read(cell))
                except cols.Unreadable as unreadable:
                    out.append(_UNREADABLE)
                    bad[cell] = unreadable.error
            values[f.key] = out
        if bad:
            for (row, _cells), cell in zip(rows, column, strict=True):
                if cell in bad:
                    errors.append(cell_error(row, position, cell, bad[cell]).compact())
    return values, errors


def _column(
    values: dict[str, list[Any]],
    key: str,
    default: Any,
    size: int,
    unreadable: dict[int, set[str]],
    unreadable_key: str | None = None,
) -> list[Any]:
    """A field's values for the validator: the default where the cell was blank, and where it
    was unreadable (whose errors are then not reported twice)."""
    found = values.get(key)
    if found is None:
        return [default] * size
    out = []
    for row, value in enumerate(found):
        if value is None:
            out.append(default)
        elif value is _UNREADABLE:
            unreadable.setdefault(row, set()).add(unreadable_key or key)
            out.append(default)
        else:
            out.append(value)
    return out


def check_chunk(context: ChunkContext, chunk: Any, chunk_number: int) -> ChunkResult:
    """Read, check and format one chunk: a CSV block (bytes), an .xlsx's slice or a list of
    (row, cells)."""
    result = ChunkResult(number=chunk_number)
    if isinstance(chunk, bytes):
        records = _csv_records(chunk, context.encoding)
        result.records = len(records)
        rows = [(n, cells) for n, cells in enumerate(records) if nonblank(cells)]
    elif isinstance(chunk, XlsxSlice):
        assert context.workbook is not None
        rows = [
            (n, cells) for n, cells in context.workbook.rows_of(chunk) if n > 1 and nonblank(cells)
        ]
    else:
        rows = chunk
    result.rows = size = len(rows)
    if not size:
        return result
    layout = context.layout
    index = layout.index
    values, read_errors = _read_columns(layout, rows)
    unreadable: dict[int, set[str]] = {}
    student = {
        key: _column(values, key, default, size, unreadable)
        for key, default in _STUDENT_DEFAULTS.items()
    }
    today = datetime.date.today()
    births = student["birth_date"]
    missing_birth = [r for r, v in enumerate(values.get("birth_date", [None] * size)) if v is None]
    for row in range(size):
        if births[row] == "":
            births[row] = today
    blocks: list[dict[str, list[Any]]] = []
    presence: list[list[bool]] = []
    for n in range(cols.FAMILY_BLOCKS):
        keys = [k for k in index if k.startswith(f"family.{n}.")]
        present = [
            any(values[k][row] is not False and values[k][row] not in ("", None) for k in keys)
            for row in range(size)
        ]
        block = {
            attr: _column(values, f"family.{n}.{attr}", default, size, unreadable)
            for attr, default in _MEMBER_DEFAULTS.items()
        }
        blocks.append(block)
        presence.append(present)
    columns = StudentColumns(
        size=size,
        **{
            name: student[name]
            for name in StudentColumns.__dataclass_fields__
            if name not in ("size", "family")
        },
        family=[
            FamilyColumns(
                present=presence[n],
                **{
                    name: block[name]
                    for name in FamilyColumns.__dataclass_fields__
                    if name != "present"
                },
            )
            for n, block in enumerate(blocks)
        ],
    )
    found = validate_student_columns(columns, division_exists=context.division_exists)
    errors_of: dict[int, list[list[Any]]] = {}
    for compact in read_errors:
        errors_of.setdefault(compact[0], []).append(compact)
    required = ValidationError(_("The birth date is required."), code="required")
    for row in missing_birth:
        sheet_row = rows[row][0]
        unreadable.setdefault(row, set()).add("birth_date")
        errors_of.setdefault(sheet_row, []).append(
            cell_error(sheet_row, index["birth_date"], "", required).compact()
        )
    for row, row_errors in found.items():
        skipped = unreadable.get(row, set())
        sheet_row, cells = rows[row]
        for key, field_errors in row_errors.items():
            if key in skipped or (key == "id_number" and "birth_date" in skipped):
                continue
            for error in field_errors:
                column = layout.column_of(key, error.code, cells)
                raw = cells[column] if 0 <= column < len(cells) else ""
                errors_of.setdefault(sheet_row, []).append(
                    cell_error(sheet_row, column, raw, error).compact()
                )
    placed = _placements(context, values, rows, columns, errors_of)
    for row, (sheet_row, _cells) in enumerate(rows):
        if sheet_row in errors_of:
            result.errors.extend(errors_of[sheet_row])
            document = _valid_document(columns, row, found.get(row), unreadable.get(row))
            if document is not None:
                doc_type, number = document
                active, *others = document_indexes(doc_type, number)
                typed = copy_escape(str(columns.name[row] or ""))
                where = f"{mask_id_number(number)}\t{typed}\t{chunk_number}\t{sheet_row}"
                result.documents.append(f"{doc_type}\t{active}\t{where}")
                result.other_suite_documents += [f"{doc_type}\t{i}\t{where}" for i in others]
    employers = [block["employer"] for block in blocks]
    format_valid(
        context, chunk_number, rows, employers, student, columns, placed, errors_of, result
    )
    return result


def _valid_document(
    columns: StudentColumns, row: int, errors: Any, unreadable: set[str] | None
) -> tuple[str, str] | None:
    """The row's document type and number, if it has a number and neither had an error."""
    number = columns.id_number[row]
    checked = ("id_doc_type", "id_number", "birth_date")  # the number is checked against both
    if not number or any(key in (errors or {}) or key in (unreadable or ()) for key in checked):
        return None
    return columns.id_doc_type[row], number


def _placements(
    context: ChunkContext,
    values: dict[str, list[Any]],
    rows: list[tuple[int, list[Any]]],
    columns: StudentColumns,
    errors_of: dict[int, list[list[Any]]],
) -> list[tuple[int, int, str] | None]:
    """Each row's class (pk, grade) and age note, after the class and age-for-grade checks."""
    index = context.layout.index
    size = len(rows)
    grades = values.get("grade", [None] * size)
    numbers = values.get("class_number", [None] * size)
    notes = values.get("age_confirmation", [""] * size)
    ranges: dict[int, tuple[int, int]] = {}
    placed: list[tuple[int, int, str] | None] = []
    for row, (sheet_row, cells) in enumerate(rows):
        grade, number = grades[row], numbers[row]
        found = None
        error = None
        if isinstance(grade, int) and isinstance(number, int):
            found = context.classes.get((grade, number))
            if found is None:
                position = index["class_number"]
                error = cell_error(
                    sheet_row,
                    position,
                    cells[position] if position < len(cells) else "",
                    ValidationError(
                        _("The school has no class %(number)d in grade %(grade)d this year."),
                        code="class_not_found",
                        params={"grade": grade, "number": number},
                    ),
                )
        elif grade is None or number is None:
            error = cell_error(
                sheet_row,
                index["grade" if grade is None else "class_number"],
                "",
                ValidationError(_("This cell is required."), code="required"),
            )
        note = notes[row]
        note = note.strip() if isinstance(note, str) else ""
        born = columns.birth_date[row]
        # A row without a birth date already has its error; the age rule has nothing to check.
        if found is not None and error is None and born is not None:
            class_grade = found[1]
            limits = ranges.get(class_grade)
            if limits is None:
                limits = ranges[class_grade] = expected_age_range(class_grade)
            age = age_on(born, context.year_start)
            low, high = limits
            if not low <= age <= high and not note and sheet_row not in errors_of:
                error = cell_error(
                    sheet_row,
                    index.get("age_confirmation", index["birth_date"]),
                    "",
                    ValidationError(
                        _(
                            "The child is %(age)d on 1 September; %(low)d to %(high)d is "
                            "usual for this grade. Give the reason in this column."
                        ),
                        code="age_unusual_for_grade",
                        params={"age": age, "low": low, "high": high},
                    ),
                )
        if error is not None:
            errors_of.setdefault(sheet_row, []).append(error.compact())
            placed.append(None)
        else:
            placed.append((found[0], found[1], note) if found is not None else None)
    return placed
