"""Checking an import and writing it set-based, in one transaction.

New students are checked a chunk at a time (a block of a CSV's bytes, or a list of a
spreadsheet's rows), column by column, with the registration form's own rules
(xueji.students.validation.validate_student_columns, which the form runs on a batch of one); the
age-for-grade rule and the duplicate checks are student_register's. A chunk's valid rows come out
as COPY text, formatted by forked workers for a large file on PostgreSQL. The importing process
COPYs them into temporary tables, allocates J numbers, and once the file has been read finds the
duplicates within it and against the registry with two queries; only a file without a single
error is then written, with one INSERT ... SELECT per table in the caller's transaction (the
caller rolls back when the outcome has errors). Every error of the file is reported at once.
The importing process's memory does not grow with the file: the rows wait in the database.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import multiprocessing
import os
import re
import struct
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import MISSING, dataclass, field, replace
from functools import cache, lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from xueji.core import codes
from xueji.core.errors import FieldErrors, ServiceError, translated
from xueji.core.exports import mask_document_number, mask_identifiers
from xueji.core.idnumbers import g_number, mask_id_number, normalize
from xueji.geo.models import Division
from xueji.geo.selectors import division_exists
from xueji.imports import columns as cols
from xueji.imports.reading import nonblank
from xueji.imports.xlsx import SlicedWorkbook, XlsxSlice
from xueji.schools.models import School, SchoolClass
from xueji.students.bulk import (
    EVENT_TABLE,
    FAMILY_TABLE,
    PLACEMENT_TABLE,
    RECORD_TABLES_WITH_EVENTS,
    STUDENT_TABLE,
    records_insert_from_staging,
    uuid7_texts,
)
from xueji.students.identity import (
    FAMILY_ID_NUMBER,
    STUDENT_ID_NUMBER,
    document_fields,
    document_index,
    number_index,
    student_number_fields,
)
from xueji.students.models import (
    EventKind,
    NumberKind,
    Placement,
    PlacementReason,
    RecordState,
    Student,
)
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.services import (
    OTHER_INFO_FIELDS,
    student_data_of,
    student_number_allocate_j,
    students_other_info_save,
)
from xueji.students.validation import (
    FamilyColumns,
    FamilyMemberData,
    StudentColumns,
    StudentData,
    age_on,
    expected_age_range,
    validate_student_columns,
    validate_student_data,
)
from xueji.yearend.services import intake_admit

BATCH_ROWS = 5_000
# Files of at least this many rows are checked by forked workers: a spreadsheet CHUNK_ROWS rows
# at a time, a CSV in blocks of xueji.imports.reading.CSV_BLOCK_BYTES.
PARALLEL_MIN_ROWS = 5_000
CHUNK_ROWS = 2_000
# The bits of a key's counter that number the keys within a chunk (the rest number the chunk).
CHUNK_KEY_BITS = 24
MAX_KEPT_ERRORS = 20_000


@dataclass(frozen=True)
class CellError:
    row: int
    column: int  # index in the uploaded sheet; -1 for the row as a whole
    value: str
    code: str
    message_zh: str
    message_en: str

    def compact(self) -> list[Any]:
        return [self.row, self.column, self.value, self.code, self.message_zh, self.message_en]

    @classmethod
    def of(cls, item: list[Any]) -> CellError:
        return cls(*item)


def in_both_languages(message: Any, params: dict[str, Any] | None = None) -> tuple[str, str]:
    """The message (formatted with `params`) in Chinese and in English."""
    texts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            text = str(message)
            texts.append(text % params if params else text)
    return texts[0], texts[1]


def cell_error(row: int, column: int, value: Any, error: ValidationError) -> CellError:
    """The error of a cell; resident ID numbers in the value are kept masked (the plain value is
    only in the uploaded file, which the school has)."""
    zh, en = in_both_languages(error.message, error.params)
    shown = mask_identifiers(cols.text_of(value))
    return CellError(row, column, shown, error.code or "invalid", zh, en)


class HeaderError(ServiceError):
    """The sheet's header row does not match the template."""


def _purpose_of_header(header: list[Any], *, chosen: str) -> str | None:
    """Another kind of import whose template the header fits (every required column there),
    the one with the most of its columns present; None when none fits."""
    present = {cols.header_key(text) for text in header}
    best: tuple[int, str] | None = None
    for purpose in cols.PURPOSES:
        if purpose == chosen:
            continue
        fields = cols.fields_of(purpose)
        keys = {cols.header_key(field.header) for field in fields}
        if not all(cols.header_key(f.header) in present for f in fields if f.required):
            continue
        matched = len(keys & present)
        if best is None or matched > best[0]:
            best = (matched, purpose)
    return None if best is None else best[1]


@dataclass
class Layout:
    """Which column of the upload holds which field."""

    fields: list[cols.Field]
    index: dict[str, int]  # field key -> column index

    @classmethod
    def of(cls, purpose: str, header: list[Any]) -> Layout:
        fields = cols.fields_of(purpose)
        by_header = {cols.header_key(field.header): field for field in fields}
        index: dict[str, int] = {}
        for position, text in enumerate(header):
            found = by_header.get(cols.header_key(text))
            if found is not None and found.key not in index:
                index[found.key] = position
        missing = [f.header for f in fields if f.required and f.key not in index]
        if missing:
            other = _purpose_of_header(header, chosen=purpose)
            if other is not None:
                # The registrar chose the wrong kind in the form: the file is fine as it is.
                raise HeaderError(
                    "wrong_purpose",
                    translated(
                        _(
                            "This file is laid out as the template “%(found)s”, but the kind "
                            "of import chosen was “%(chosen)s”: choose “%(found)s” as the kind "
                            "of import and upload the same file again."
                        ),
                        {
                            "found": cols.PURPOSE_LABELS[other],
                            "chosen": cols.PURPOSE_LABELS[purpose],
                        },
                    ),
                    columns=missing,
                    purpose=other,
                )
            raise HeaderError(
                "missing_columns",
                translated(
                    _(
                        "The first row must hold the template's headers; missing: %(columns)s. "
                        "Download the template and copy the data into it."
                    ),
                    {"columns": "、".join(missing)},
                ),
                columns=missing,
            )
        return cls(fields=fields, index=index)

    def document_columns(self) -> frozenset[int]:
        """The columns of ID numbers and student numbers."""
        return frozenset(
            self.index[f.key]
            for f in self.fields
            if f.kind == cols.DOCUMENT and f.key in self.index
        )

    def column_of(self, key: str, code: str | None = None, cells: Sequence[Any] = ()) -> int:
        """The column an error of a validator's field key belongs to (its code and the row's
        cells place an error of the whole family)."""
        if key in self.index:
            return self.index[key]
        if key == "family" and code == "guardian_required":
            # Nobody is marked guardian: the cell to fill is the first named member's 是否监护人,
            # not a relation that is right as it is.
            for n in range(cols.FAMILY_BLOCKS):
                name, guardian = (
                    self.index.get(f"family.{n}.{a}") for a in ("name", "is_guardian")
                )
                named = name is not None and name < len(cells) and cols.text_of(cells[name])
                if named and guardian is not None:
                    return guardian
        if key.startswith("family"):
            return self.index.get("family.0.relation", -1)
        return -1


# ---- new students: checked column by column, a chunk of rows at a time -------------------------
#
# A chunk (a block of the CSV's bytes, or a list of a spreadsheet's rows) is read, checked and
# turned into the COPY text of its rows by one function, run by forked worker processes for a
# large file on PostgreSQL and in this process otherwise. What needs the whole file (duplicates
# across chunks, the registry, J numbers, the write) stays with the importing process, which
# receives per chunk its errors, the document numbers' blind indexes and four strings of text.


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


@dataclass
class ChunkContext:
    """What every chunk is checked and formatted with; set before the workers fork, so that they
    inherit it instead of receiving it."""

    layout: Layout
    division_exists: Callable[[str], bool]
    classes: dict[tuple[int, int], tuple[int, int]]  # (grade, number) -> (class pk, grade)
    year_start: datetime.date
    school_pk: int
    school_code: str
    start_date: datetime.date
    actor_id: int | None
    now: str
    import_ms: int  # the import's start, the time part of its keys
    encoding: str = "utf-8"
    workbook: SlicedWorkbook | None = None  # what an .xlsx's slices are read with


@dataclass
class ChunkResult:
    """A chunk checked: rows are numbered from the chunk's start (0 for a CSV block; the sheet's
    own numbers for spreadsheet rows), which the importing process shifts."""

    number: int = 0  # the chunk's place in the file
    records: int = 0  # records in the chunk, blank ones included
    rows: int = 0  # non-blank rows
    errors: list[list[Any]] = field(default_factory=list)
    students: list[str] = field(default_factory=list)  # COPY lines of students with G numbers
    # Students without a resident ID: (key, rest of the line, birth date); the importing process
    # allocates their J numbers.
    unnumbered: list[tuple[str, str, datetime.date]] = field(default_factory=list)
    family: list[str] = field(default_factory=list)
    placements: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    # Rows with errors whose document is valid, for the duplicate checks (COPY lines of
    # DOCUMENT_COLUMNS): a duplicate is reported with the row's other errors, not after them.
    documents: list[str] = field(default_factory=list)


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
                result.documents.append(
                    f"{doc_type}\t{document_index(doc_type, number)}\t"
                    f"{mask_id_number(number)}\t{chunk_number}\t{sheet_row}"
                )
    employers = [block["employer"] for block in blocks]
    _format_valid(
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
        if found is not None and error is None:
            class_grade = found[1]
            limits = ranges.get(class_grade)
            if limits is None:
                limits = ranges[class_grade] = expected_age_range(class_grade)
            age = age_on(columns.birth_date[row], context.year_start)
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


def _format_valid(
    context: ChunkContext,
    chunk_number: int,
    rows: list[tuple[int, list[Any]]],
    employers: list[list[str]],
    student: dict[str, list[Any]],
    columns: StudentColumns,
    placed: list[tuple[int, int, str] | None],
    errors_of: dict[int, list[list[Any]]],
    result: ChunkResult,
) -> None:
    """The COPY text of the chunk's valid rows (all of them are written, or none of the file)."""
    valid = [
        row
        for row, (sheet_row, _cells) in enumerate(rows)
        if sheet_row not in errors_of and placed[row] is not None
    ]
    if not valid:
        return
    keys = _uuids(context.import_ms, chunk_number, len(valid) * 5)
    resident = codes.IdDocType.RESIDENT_ID.value
    state = RecordState.ENROLLED.value
    school = str(context.school_pk)
    now = context.now
    start = context.start_date.isoformat()
    actor = "\\N" if context.actor_id is None else str(context.actor_id)
    shared: dict[tuple[int, str], tuple[str, str]] = {}
    family_blocks = list(enumerate(columns.family))
    for ordinal, row in enumerate(valid):
        sheet_row = rows[row][0]
        base = ordinal * 5
        key = keys[base]
        name = columns.name[row]
        doc_type = columns.id_doc_type[row]
        number = columns.id_number[row]
        document = document_fields(doc_type, number, context=STUDENT_ID_NUMBER)
        pinyin, initials = _spelled(name)
        born = columns.birth_date[row]
        rest = "\t".join(
            (
                _pg(name),
                pinyin,
                initials,
                columns.sex[row],
                born.isoformat(),
                columns.birthplace_code[row],
                columns.native_place_code[row] or "\\N",
                columns.ethnicity[row],
                columns.nationality[row],
                doc_type,
                document["id_number_masked"],
                document["id_number_sealed"],
                document["id_number_index"],
                columns.overseas_status[row],
                columns.health[row],
                columns.hukou_division_code[row] or "\\N",
                columns.hukou_nature[row],
                _pg(student["former_name"][row]),
                _pg(student["address"][row]),
                _pg(columns.phone[row]),
                columns.attendance_mode[row],
                columns.entry_method[row],
                _BOOL[student["only_child"][row]],
                _BOOL[student["attended_preschool"][row]],
                columns.left_behind[row],
                _BOOL[student["migrant_child"][row]],
                _BOOL[student["orphan"][row]],
                _BOOL[student["martyr_family"][row]],
                _BOOL[student["inclusive_education"][row]],
                columns.disability_type[row],
                _BOOL[student["needs_aid"][row]],
                _BOOL[student["needs_school_bus"][row]],
                state,
                school,
                now,
                now,
                str(chunk_number),
                str(sheet_row),
            )
        )
        if doc_type == resident:
            sealed = student_number_fields(g_number(number))
            result.students.append(
                f"{key}\t{sealed['number_masked']}\t{sealed['number_sealed']}\t"
                f"{sealed['number_index']}\t{NumberKind.G.value}\t{rest}"
            )
        else:
            result.unnumbered.append((key, rest, born))
        member_ordinal = 0
        for n, block in family_blocks:
            if not block.present[row]:
                continue
            member_doc_type = block.id_doc_type[row]
            member_number = block.id_number[row]
            doc = document_fields(member_doc_type, member_number, context=FAMILY_ID_NUMBER)
            result.family.append(
                "\t".join(
                    (
                        keys[base + 1 + member_ordinal],
                        key,
                        str(member_ordinal),
                        block.relation[row],
                        _pg(block.name[row]),
                        member_doc_type,
                        doc["id_number_masked"],
                        doc["id_number_sealed"],
                        doc["id_number_index"],
                        _pg(block.phone[row]),
                        _pg(employers[n][row]),
                        _BOOL[block.is_guardian[row]],
                        block.missing_reason[row],
                    )
                )
            )
            member_ordinal += 1
        class_pk, grade, note = placed[row]  # type: ignore[misc]
        tails = shared.get((class_pk, note))
        if tails is None:
            detail = {
                "school": context.school_code,
                "class": class_pk,
                "grade": grade,
                "age_confirmation": note,
                "import": True,
            }
            tails = shared[(class_pk, note)] = (
                f"{school}\t{class_pk}\t{grade}\t{start}\t\\N\t{REGISTRATION}",
                f"{EventKind.REGISTERED.value}\t{start}\t{now}\t{actor}\t"
                + _pg(json.dumps(detail, ensure_ascii=False)),
            )
        result.placements.append(f"{keys[base + 3]}\t{key}\t{tails[0]}")
        result.events.append(f"{keys[base + 4]}\t{key}\t{tails[1]}")


_BOOL = {True: "t", False: "f"}
REGISTRATION = PlacementReason.REGISTRATION.value


def now_text(*, postgres: bool) -> str:
    """The time now as COPY text of a timestamp column (SQLite keeps it naive, in UTC)."""
    now = datetime.datetime.now(datetime.UTC)
    if postgres:
        return now.isoformat(sep=" ")
    return now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _uuids(import_ms: int, chunk_number: int, count: int) -> list[str]:
    """Time-ordered UUIDs (version 7: the import's start in milliseconds, the chunk and a
    counter, 32 random bits): unique within the import without coordination between workers,
    and the primary keys and the indexes led by student_id grow at their right edge."""
    randoms = struct.unpack(f"<{count}I", os.urandom(4 * count))
    return uuid7_texts(import_ms, chunk_number << CHUNK_KEY_BITS, randoms)


# ---- running the chunks ------------------------------------------------------------------------

# What the forked workers check with, set in the parent just before forking (inherited, never
# pickled).
_CONTEXT: ChunkContext | None = None


def _check_in_worker(chunk: Any, chunk_number: int) -> ChunkResult:
    """A worker's share. It never touches the database connection it inherited (the forked
    workers leave through os._exit)."""
    assert _CONTEXT is not None
    return check_chunk(_CONTEXT, chunk, chunk_number)


def check_workers(total: int) -> int:
    """Worker processes for a file of `total` rows: the cores, for a large file on PostgreSQL
    (SQLite's file is locked by the transaction, and small files are not worth a fork)."""
    if (
        total < PARALLEL_MIN_ROWS
        or connection.vendor != "postgresql"
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return 1
    return min(os.cpu_count() or 1, 4)


def checked_chunks(
    chunks: Iterable[Any], context: ChunkContext, *, workers: int = 1
) -> Iterator[ChunkResult]:
    """Every chunk checked, in the file's order; with workers > 1 by forked processes, a bounded
    number of chunks in flight (memory stays constant whatever the file's size)."""
    if workers <= 1:
        for number, chunk in enumerate(chunks):
            yield check_chunk(context, chunk, number)
        return
    global _CONTEXT
    _CONTEXT = context
    # Known divisions as a set: the workers must not query the database.
    known = frozenset(Division.objects.values_list("code", flat=True))
    context.division_exists = known.__contains__
    pool_context = multiprocessing.get_context("fork")
    try:
        with pool_context.Pool(workers) as pool:
            _CONTEXT = None  # the workers have their copy
            in_flight: deque[Any] = deque()
            for number, chunk in enumerate(chunks):
                in_flight.append(pool.apply_async(_check_in_worker, (chunk, number)))
                if len(in_flight) > workers * 3:
                    yield in_flight.popleft().get()
            while in_flight:
                yield in_flight.popleft().get()
    finally:
        _CONTEXT = None


def row_chunks(rows: Iterable[tuple[int, list[Any]]]) -> Iterator[list[tuple[int, list[Any]]]]:
    """A spreadsheet's rows in chunks of CHUNK_ROWS."""
    chunk: list[tuple[int, list[Any]]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@lru_cache(maxsize=100_000)
def _spelled(name: str) -> tuple[str, str]:
    """Pinyin and initials of a name; names repeat a lot in a school's file."""
    return name_pinyin(name), name_initials(name)


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _pg(value: str) -> str:
    """Text in COPY's text format (imported text may hold tabs, newlines, backslashes)."""
    if _COPY_SPECIAL.search(value) is None:
        return value
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _unescape(value: str) -> str | None:
    if value == "\\N":
        return None
    if "\\" not in value:
        return value
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m[1], m[1]), value)


def _copy(table: str, columns: tuple[str, ...], lines: list[str], *, like: str) -> None:
    """Rows in COPY's text format into a table with the columns of the table `like`: COPY on
    PostgreSQL, executemany on SQLite."""
    if not lines:
        return
    # wrap_database_errors: a unique violation raised by COPY (the raw driver's cursor) becomes
    # Django's IntegrityError, as from any other statement.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write("\n".join(lines))
                copy.write("\n")
            return
        booleans = _boolean_columns(like, columns)
        rows = []
        for line in lines:
            values: list[Any] = [_unescape(value) for value in line.split("\t")]
            for position in booleans:
                values[position] = values[position] == "t"
            rows.append(values)
        connection.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            rows,
        )


@cache
def _boolean_columns(table: str, columns: tuple[str, ...]) -> tuple[int, ...]:
    from django.apps import apps

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    kinds = {f.column: f.get_internal_type() for f in model._meta.concrete_fields}
    return tuple(n for n, column in enumerate(columns) if kinds.get(column) == "BooleanField")


# The rows of an import wait in temporary tables of the same columns until the whole file has
# been checked; the student's also says where the row is in the file, for the errors.
STAGED_NAMES = {
    STUDENT_TABLE: "xueji_import_student",
    FAMILY_TABLE: "xueji_import_family",
    PLACEMENT_TABLE: "xueji_import_placement",
    EVENT_TABLE: "xueji_import_event",
}
STAGING: tuple[tuple[str, str, tuple[str, ...]], ...] = tuple(
    (table, STAGED_NAMES[table], columns) for table, columns in RECORD_TABLES_WITH_EVENTS
)
STAGED_STUDENT = STAGING[0][1]
STAGED_PLACEMENT = STAGING[2][1]
WHERE_IN_FILE = ("chunk", "chunk_row")
# The documents of rows with errors (which are not staged), for the duplicate checks.
STAGED_DOCUMENT = "xueji_import_document"
DOCUMENT_COLUMNS = ("id_doc_type", "id_number_index", "id_number_masked", *WHERE_IN_FILE)
_EVERY_DOCUMENT = (
    f"(SELECT {', '.join(DOCUMENT_COLUMNS)} FROM {STAGED_STUDENT} "
    f"UNION ALL SELECT {', '.join(DOCUMENT_COLUMNS)} FROM {STAGED_DOCUMENT})"
)


class StudentWriter:
    """The importing process's share. Valid rows are COPYed into temporary tables as they come
    (no keys, no triggers, no write-ahead log); once the file has been read, the duplicates
    within it and against the registry are found with two queries, and if the file has no error
    at all, one INSERT … SELECT per table writes it: every key, constraint and trigger runs once
    per table, set-based, as it would for a single COPY of the whole file."""

    def __init__(self, *, school: School, outcome: Outcome, id_column: int) -> None:
        self.school = school
        self.outcome = outcome
        self.id_column = id_column
        self.shifts: dict[int, int] = {}  # chunk -> what its rows add to be the sheet's rows
        self.pending: list[ChunkResult] = []
        self.pending_rows = 0
        self.staged = 0
        self.staged_family = 0
        self.postgres = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            for table, staging, _columns in STAGING:
                cursor.execute(f"DROP TABLE IF EXISTS {staging}")
                if self.postgres:
                    cursor.execute(f"CREATE TEMPORARY TABLE {staging} (LIKE {table})")
                else:
                    cursor.execute(
                        f"CREATE TEMPORARY TABLE {staging} AS SELECT * FROM {table} WHERE 0"
                    )
            for column in WHERE_IN_FILE:
                cursor.execute(f"ALTER TABLE {STAGED_STUDENT} ADD COLUMN {column} integer")
            cursor.execute(f"DROP TABLE IF EXISTS {STAGED_DOCUMENT}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGED_DOCUMENT} (id_doc_type text, "
                "id_number_index text, id_number_masked text, chunk integer, chunk_row integer)"
            )

    def add(self, result: ChunkResult, shift: int) -> None:
        self.shifts[result.number] = shift
        self.pending.append(result)
        self.pending_rows += len(result.placements) + len(result.documents)
        if self.pending_rows >= BATCH_ROWS:
            self.stage()

    def stage(self) -> None:
        """COPY the pending rows into the temporary tables (J numbers allocated here: they take
        the county's locked sequence)."""
        pending, self.pending, self.pending_rows = self.pending, [], 0
        students = [line for result in pending for line in result.students]
        for result in pending:
            for key, rest, born in result.unnumbered:
                sealed = student_number_fields(
                    student_number_allocate_j(self.school.county_id, born)
                )
                students.append(
                    f"{key}\t{sealed['number_masked']}\t{sealed['number_sealed']}\t"
                    f"{sealed['number_index']}\t{NumberKind.J.value}\t{rest}"
                )
        family = [line for result in pending for line in result.family]
        texts = (
            students,
            family,
            [line for result in pending for line in result.placements],
            [line for result in pending for line in result.events],
        )
        for (table, staging, columns), lines in zip(STAGING, texts, strict=True):
            if table == STUDENT_TABLE:
                columns = (*columns, *WHERE_IN_FILE)
            _copy(staging, columns, lines, like=table)
        documents = [line for result in pending for line in result.documents]
        _copy(STAGED_DOCUMENT, DOCUMENT_COLUMNS, documents, like=STUDENT_TABLE)
        self.staged += len(students)
        self.staged_family += len(family)

    def _sheet_row(self, chunk: int, row: int) -> int:
        return self.shifts[chunk] + row

    def _document_error(self, chunk: int, row: int, masked: str, error: ValidationError) -> None:
        self.outcome.add_errors(
            [cell_error(self._sheet_row(chunk, row), self.id_column, masked, error)]
        )

    def duplicates(self) -> None:
        """Errors for the staged children whose document number is in the file twice or held by
        a record of the registry."""
        with connection.cursor() as cursor:
            if self.postgres:
                # Temporary tables are never analysed by autovacuum.
                cursor.execute(f"ANALYZE {STAGED_STUDENT}, {STAGED_DOCUMENT}")
            cursor.execute(
                "SELECT chunk, chunk_row, id_number_masked, first_chunk, first_row FROM ("
                "  SELECT chunk, chunk_row, id_number_masked, ROW_NUMBER() OVER w AS n,"
                "  FIRST_VALUE(chunk) OVER w AS first_chunk,"
                "  FIRST_VALUE(chunk_row) OVER w AS first_row"
                f"  FROM {_EVERY_DOCUMENT} d WHERE id_number_index <> ''"
                "  WINDOW w AS (PARTITION BY id_doc_type, id_number_index"
                "  ORDER BY chunk, chunk_row)"
                ") numbered WHERE n > 1"
            )
            for chunk, row, masked, first_chunk, first_row in cursor:
                self._document_error(
                    chunk,
                    row,
                    masked,
                    ValidationError(
                        _("The same ID number is already in row %(row)d of this file."),
                        code="duplicate_in_file",
                        params={"row": self._sheet_row(first_chunk, first_row)},
                    ),
                )
            cursor.execute(
                "SELECT st.chunk, st.chunk_row, st.id_number_masked, sc.name "
                f"FROM {_EVERY_DOCUMENT} st "
                f"JOIN {Student._meta.db_table} s ON s.id_doc_type = st.id_doc_type "
                "AND s.id_number_index = st.id_number_index "
                f"JOIN {School._meta.db_table} sc ON sc.id = s.school_id "
                "WHERE st.id_number_index <> '' AND s.id_number_index <> ''"
            )
            for chunk, row, masked, school_name in cursor:
                self._document_error(
                    chunk,
                    row,
                    masked,
                    ValidationError(
                        _("This ID number is already registered at %(school)s."),
                        code="id_number_registered",
                        params={"school": school_name},
                    ),
                )

    def finish(self, on_writing: Callable[[int], None] | None = None) -> None:
        """Check the duplicates; write the file if it has no error; drop the temporary tables."""
        self.stage()
        self.duplicates()
        with connection.cursor() as cursor, connection.wrap_database_errors:
            if not self.outcome.error_count:
                if on_writing is not None:
                    on_writing(self.staged)
                # The students app writes the record, set-based, from the staging tables.
                records_insert_from_staging(STAGED_NAMES)
                self.outcome.written = self.staged
                self.outcome.family_members = self.staged_family
                # The staged placements are exactly the ones just written: one GROUP BY over
                # them, before they are dropped, says how many children went into each class.
                cursor.execute(
                    f"SELECT school_class_id, COUNT(*) FROM {STAGED_PLACEMENT} "
                    "GROUP BY school_class_id"
                )
                self.outcome.classes = Counter({int(pk): int(n) for pk, n in cursor.fetchall()})
            for _table, staging, _columns in STAGING:
                cursor.execute(f"DROP TABLE {staging}")
            cursor.execute(f"DROP TABLE {STAGED_DOCUMENT}")


def classes_of(school: School, academic_year: Any) -> dict[tuple[int, int], tuple[int, int]]:
    """The school's classes of the year: (grade, class number) -> (class pk, grade)."""
    return {
        (grade, number): (pk, grade)
        for pk, grade, number in SchoolClass.objects.filter(
            school=school, academic_year=academic_year
        ).values_list("pk", "grade", "number")
    }


@dataclass
class Outcome:
    rows: int = 0
    written: int = 0
    family_members: int = 0
    error_count: int = 0
    errors: list[CellError] = field(default_factory=list)
    # Records written per class (class pk -> count), kept on the job to link it to the rosters.
    classes: Counter[int] = field(default_factory=Counter)

    # The ID number and student number columns: their values are kept masked whatever they
    # hold (a mistyped number too), not only where they look like a resident ID number.
    masked_columns: frozenset[int] = frozenset()

    @classmethod
    def of(cls, layout: Layout) -> Outcome:
        return cls(masked_columns=layout.document_columns())

    def sort_errors(self) -> None:
        """In the sheet's order: by row, and in a row from left to right."""
        self.errors.sort(key=lambda error: (error.row, error.column))

    def add_errors(self, errors: Iterable[CellError]) -> None:
        for error in errors:
            if error.column in self.masked_columns:
                error = replace(error, value=mask_document_number(error.value))
            self.error_count += 1
            if len(self.errors) < MAX_KEPT_ERRORS:
                self.errors.append(error)


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


# ---- intake lists ------------------------------------------------------------------------------


def latest_classes(school: School) -> dict[tuple[int, int], SchoolClass]:
    """The school's classes of the latest year it has classes in (intake fills the year being
    entered, which may not have begun)."""
    latest = (
        SchoolClass.objects.filter(school=school)
        .order_by("-academic_year__start_year")
        .values_list("academic_year_id", flat=True)
        .first()
    )
    return {
        (c.grade, c.number): c
        for c in SchoolClass.objects.filter(school=school, academic_year_id=latest)
    }


def import_intake_rows(
    *,
    rows: Iterable[tuple[int, list[Any]]],
    layout: Layout,
    school: School,
    actor: Any,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Admit the listed graduates class by class with xueji.yearend's intake_admit (its rules,
    its all-or-nothing per class); call inside one transaction and roll it back when the outcome
    has errors, so that the file as a whole is all or nothing."""
    outcome = Outcome.of(layout)
    index = layout.index
    classes = latest_classes(school)
    readers = {key: cols.reader_of(field) for field in layout.fields if (key := field.key) in index}
    by_class: dict[int, list[tuple[int, str]]] = {}
    for row, cells in rows:
        outcome.rows += 1
        values: dict[str, Any] = {}
        errors: list[CellError] = []
        for key, read in readers.items():
            position = index[key]
            raw = cells[position] if position < len(cells) else None
            try:
                values[key] = read(raw)
            except cols.Unreadable as unreadable:
                errors.append(cell_error(row, position, raw, unreadable.error))
                values[key] = None
        grade, number = values.get("grade"), values.get("class_number")
        school_class = None
        if isinstance(grade, int) and isinstance(number, int):
            school_class = classes.get((grade, number))
            if school_class is None:
                errors.append(
                    cell_error(
                        row,
                        index["class_number"],
                        number,
                        ValidationError(
                            _("The school has no class %(number)d in grade %(grade)d this year."),
                            code="class_not_found",
                            params={"grade": grade, "number": number},
                        ),
                    )
                )
        elif not errors:
            key = "grade" if grade is None else "class_number"
            errors.append(
                cell_error(
                    row,
                    index[key],
                    "",
                    ValidationError(_("This cell is required."), code="required"),
                )
            )
        student_number = str(values.get("student_number") or "")
        if not student_number:
            errors.append(
                cell_error(
                    row,
                    index["student_number"],
                    "",
                    ValidationError(_("This cell is required."), code="required"),
                )
            )
        if errors:
            outcome.add_errors(errors)
        elif school_class is not None:
            by_class.setdefault(school_class.pk, []).append((row, student_number))
        if progress is not None and outcome.rows % 1000 == 0:
            progress(outcome.rows)
    number_column = index["student_number"]
    for class_id, listed in by_class.items():
        try:
            with transaction.atomic():
                result = intake_admit(
                    actor=actor,
                    school_class_id=class_id,
                    student_numbers=[number for _row, number in listed],
                )
            outcome.written += result.admitted
            if result.admitted:
                outcome.classes[class_id] += result.admitted
        except FieldErrors as refused:
            for key, field_errors in refused.errors.items():
                for error in field_errors:
                    params = error.params or {}
                    line = params.get("line")
                    if "reason" in params:
                        # The service numbers its own lines; the sheet's row says where.
                        error = ValidationError(params["reason"], code=error.code)
                    if isinstance(line, int) and 0 < line <= len(listed):
                        row, value = listed[line - 1][0], listed[line - 1][1]
                        outcome.add_errors([cell_error(row, number_column, value, error)])
                    else:
                        for row, value in listed:
                            column = index["class_number"] if key == "school_class_id" else -1
                            outcome.add_errors([cell_error(row, column, value, error)])
    if progress is not None:
        progress(outcome.rows)
    outcome.sort_errors()
    return outcome


# ---- updates of other (non-basic) information -------------------------------------------------


def _basic_data(student: Student, changes: dict[str, Any]) -> StudentData:
    """The record's fields as StudentData with the changes applied; the family and the ID number
    are left out: no other-information rule depends on them, and their errors are not kept."""
    return dataclasses.replace(student_data_of(student, with_identity=False), **changes)


def import_updates_rows(
    *,
    rows: Iterable[tuple[int, list[Any]]],
    layout: Layout,
    school: School,
    actor: Any,
    progress: Callable[[int], None] | None = None,
    batch_rows: int = 2_000,
) -> Outcome:
    """Other information of the school's students, found by student number and checked by name,
    each change checked with the registration rules (as student_update_other_info checks it);
    written set-based by the students app in batches. Call inside one transaction; roll back on
    errors."""
    outcome = Outcome.of(layout)
    index = layout.index
    readers = {f.key: cols.reader_of(f) for f in layout.fields if f.key in index}
    today = datetime.date.today()
    batch: list[tuple[int, str, str, dict[str, Any]]] = []
    seen: set[str] = set()

    def flush() -> None:
        if not batch:
            return
        keys = [number_index(number) for _row, number, _name, _changes in batch]
        found = {s.number_index: s for s in Student.objects.filter(number_index__in=keys)}
        changed: list[tuple[Student, list[str]]] = []
        for (row, number, name, changes), key in zip(batch, keys, strict=True):
            student = found.get(key)
            column = index["student_number"]
            if student is None or student.school_id != school.pk:
                outcome.add_errors(
                    [
                        cell_error(
                            row,
                            column,
                            number,
                            ValidationError(
                                _("No student of your school has this number."),
                                code="student_not_found",
                            ),
                        )
                    ]
                )
                continue
            if name and name != student.name:
                outcome.add_errors(
                    [
                        cell_error(
                            row,
                            index["name"],
                            name,
                            ValidationError(
                                _("The number belongs to %(name)s."),
                                code="name_mismatch",
                                params={"name": student.name},
                            ),
                        )
                    ]
                )
                continue
            try:
                data = validate_student_data(
                    _basic_data(student, changes), division_exists=division_exists
                )
            except FieldErrors as failed:
                # Only what the row changes is checked: a cell holding the value recorded (as
                # the pre-filled template writes every cell) is not the registrar's to fix,
                # even where that value breaks a rule made since it was recorded.
                kept = {
                    k: v
                    for k, v in failed.errors.items()
                    if k in changes and changes[k] != getattr(student, k)
                }
                for key_name, field_errors in kept.items():
                    position = index[key_name]
                    for error in field_errors:
                        outcome.add_errors([cell_error(row, position, changes[key_name], error)])
                if kept:
                    continue
                data = _basic_data(student, changes)
            updated = sorted(n for n in changes if getattr(student, n) != getattr(data, n))
            for n in updated:
                setattr(student, n, getattr(data, n))
            if updated:
                changed.append((student, updated))
        batch.clear()
        if outcome.error_count or not changed:
            return
        students_other_info_save(actor=actor, changed=changed, on=today)
        outcome.written += len(changed)
        # The batch's updated records by the class they sit in: one GROUP BY per batch.
        by_class = (
            Placement.objects.filter(
                end_date__isnull=True, student_id__in=[s.pk for s, _f in changed]
            )
            .order_by()
            .values_list("school_class_id")
            .annotate(count=Count("pk"))
        )
        for class_id, count in by_class:
            outcome.classes[class_id] += count

    for row, cells in rows:
        outcome.rows += 1
        errors: list[CellError] = []
        values: dict[str, Any] = {}
        for key, read in readers.items():
            position = index[key]
            raw = cells[position] if position < len(cells) else None
            try:
                values[key] = read(raw)
            except cols.Unreadable as unreadable:
                errors.append(cell_error(row, position, raw, unreadable.error))
        number = normalize(str(values.get("student_number") or ""))
        if not number:
            errors.append(
                cell_error(
                    row,
                    index["student_number"],
                    "",
                    ValidationError(_("This cell is required."), code="required"),
                )
            )
        elif number in seen:
            errors.append(
                cell_error(
                    row,
                    index["student_number"],
                    number,
                    ValidationError(
                        _("This student is already in another row of this file."),
                        code="duplicate_in_file",
                    ),
                )
            )
        seen.add(number)
        changes = {
            key: value
            for key, value in values.items()
            if key in OTHER_INFO_FIELDS and value not in (None, "")
        }
        if errors:
            outcome.add_errors(errors)
        else:
            batch.append((row, number, str(values.get("name") or ""), changes))
            if len(batch) >= batch_rows:
                flush()
        if progress is not None and outcome.rows % 1000 == 0:
            progress(outcome.rows)
    flush()
    if progress is not None:
        progress(outcome.rows)
    outcome.sort_errors()
    return outcome
