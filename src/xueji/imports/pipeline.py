"""Checking an import row by row and writing it set-based, in one transaction.

Each row becomes a StudentData and goes through validate_student_data, the registration form's
own rules; the age-for-grade rule and the duplicate checks are student_register's. Valid rows
are written in batches (COPY on PostgreSQL, executemany on SQLite) with the writers of
xueji.demo.synth, in the caller's single transaction: once any row has an error nothing more is
written, the rest of the file is still checked (every error is reported at once), and the caller
rolls the transaction back. Memory is constant: a batch of rows, the errors kept (capped), and an
8-byte fingerprint per document number for the duplicate check within the file.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
import re
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from xueji.core import codes
from xueji.core.errors import FieldErrors, ServiceError
from xueji.core.exports import mask_identifiers
from xueji.core.idnumbers import g_number, normalize
from xueji.demo import synth
from xueji.geo.models import Division
from xueji.geo.selectors import division_exists
from xueji.imports import columns as cols
from xueji.schools.models import School, SchoolClass
from xueji.students.identity import (
    FAMILY_ID_NUMBER,
    STUDENT_ID_NUMBER,
    document_fields,
    student_number_fields,
)
from xueji.students.models import EventKind, NumberKind, RecordState, Student
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.services import _allocate_j_number
from xueji.students.validation import (
    FamilyMemberData,
    StudentData,
    age_on,
    expected_age_range,
    validate_student_data,
)

BATCH_ROWS = 5_000
# Files of at least this many rows are checked by forked workers, CHUNK_ROWS rows at a time.
PARALLEL_MIN_ROWS = 5_000
CHUNK_ROWS = 500
MAX_KEPT_ERRORS = 20_000
EVENT_TABLE = "students_recordevent"
EVENT_COLUMNS = ("id", "student_id", "kind", "occurred_on", "recorded_at", "actor_id", "detail")


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


def _both(message: Any, params: dict[str, Any] | None = None) -> tuple[str, str]:
    texts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            text = str(message)
            texts.append(text % params if params else text)
    return texts[0], texts[1]


def cell_error(row: int, column: int, value: Any, error: ValidationError) -> CellError:
    """The error of a cell; resident ID numbers in the value are kept masked (the plain value is
    only in the uploaded file, which the school has)."""
    zh, en = _both(error.message, error.params)
    shown = mask_identifiers(cols.text_of(value))
    return CellError(row, column, shown, error.code or "invalid", zh, en)


class HeaderError(ServiceError):
    """The sheet's header row does not match the template."""


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
            raise HeaderError(
                "missing_columns",
                _(
                    "The first row must hold the template's headers; missing: %(columns)s. "
                    "Download the template and copy the data into it."
                )
                % {"columns": "、".join(missing)},
                columns=missing,
            )
        return cls(fields=fields, index=index)

    def column_of(self, key: str) -> int:
        """The column an error of a validator's field key belongs to."""
        if key in self.index:
            return self.index[key]
        if key.startswith("family"):
            return self.index.get("family.0.relation", -1)
        return -1


@dataclass
class Prepared:
    """What writing a valid row needs that depends on the row alone: computed where the row is
    checked (in a worker when there are several), so that the writer only formats and copies."""

    document: dict[str, str]  # the child's document: masked, sealed, blind index
    number: dict[str, str] | None  # the G number's fields (None: a J number is allocated)
    # The student's columns from name to needs_school_bus, and each family member's from
    # relation to missing_reason, converted for the database: on PostgreSQL one string in COPY's
    # text format (tab-separated), on SQLite a tuple of parameters.
    student: str | tuple[Any, ...]
    family: list[str | tuple[Any, ...]]


@dataclass
class Checked:
    row: int
    data: StudentData | None
    extra: dict[str, Any]
    errors: list[CellError]
    prepared: Prepared | None = None
    class_cell: Any = ""  # the class number's cell as uploaded, for its error


class RowReader:
    """Turns a row's cells into StudentData (plus the import-only fields) and checks it."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.postgres = connection.vendor == "postgresql"
        index = layout.index
        self.student_fields = [
            (f.key, index[f.key], cols.reader_of(f))
            for f in layout.fields
            if f.key in index and "." not in f.key
        ]
        self.family_fields = [
            [
                (f.key.split(".", 2)[2], index[f.key], cols.reader_of(f))
                for f in layout.fields
                if f.key.startswith(f"family.{n}.") and f.key in index
            ]
            for n in range(cols.FAMILY_BLOCKS)
        ]

    def read(
        self, row: int, cells: list[Any]
    ) -> tuple[dict[str, Any], list[tuple[dict[str, Any], int]], list[CellError]]:
        """Field values of the student and of each family block, and the unreadable cells."""
        errors: list[CellError] = []
        width = len(cells)

        def value(position: int, read: Any) -> Any:
            raw = cells[position] if position < width else None
            try:
                return read(raw)
            except cols.Unreadable as unreadable:
                errors.append(cell_error(row, position, raw, unreadable.error))
                return _UNREADABLE

        values = {key: value(position, read) for key, position, read in self.student_fields}
        blocks: list[tuple[dict[str, Any], int]] = []
        for n, block in enumerate(self.family_fields):
            found = {key: value(position, read) for key, position, read in block}
            # A block with nothing but 否 in it (the template's default) is no member.
            if any(v is not False and v not in ("", None) for v in found.values()):
                blocks.append((found, n))
        return values, blocks, errors


_UNREADABLE = object()
_STUDENT_KEYS = {f.name for f in StudentData.__dataclass_fields__.values()} - {"family"}
_MEMBER_KEYS = set(FamilyMemberData.__dataclass_fields__)


def check_student_row(
    reader: RowReader, row: int, cells: list[Any], *, division_exists: Callable[[str], bool]
) -> Checked:
    """One row of a students import checked with the registration rules."""
    layout = reader.layout
    values, blocks, errors = reader.read(row, cells)
    unreadable = {k for k, v in values.items() if v is _UNREADABLE}
    kwargs: dict[str, Any] = {}
    for key, v in values.items():
        if key in _STUDENT_KEYS and v is not _UNREADABLE and v is not None:
            kwargs[key] = v
    if "birth_date" not in kwargs:
        if "birth_date" not in unreadable:
            errors.append(
                cell_error(
                    row,
                    layout.index["birth_date"],
                    "",
                    ValidationError(_("The birth date is required."), code="required"),
                )
            )
        unreadable.add("birth_date")
        kwargs["birth_date"] = datetime.date.today()
    for required in ("name", "sex", "birthplace_code", "ethnicity", "id_doc_type"):
        kwargs.setdefault(required, "")
    family: list[FamilyMemberData] = []
    block_of: list[int] = []
    for read, block in blocks:
        member = {
            k: v
            for k, v in read.items()
            if k in _MEMBER_KEYS and v is not _UNREADABLE and v is not None
        }
        member.setdefault("relation", "")
        family.append(FamilyMemberData(**member))
        block_of.append(block)
    data = StudentData(**kwargs, family=family)
    try:
        data = validate_student_data(data, division_exists=division_exists)
    except FieldErrors as failed:
        for key, field_errors in failed.errors.items():
            if key in unreadable or (key == "id_number" and "birth_date" in unreadable):
                continue
            column_key = key
            if key.startswith("family.") and key.count(".") == 2:
                _f, n, attr = key.split(".")
                column_key = f"family.{block_of[int(n)]}.{attr}"
            column = layout.column_of(column_key)
            raw = cells[column] if 0 <= column < len(cells) else ""
            for error in field_errors:
                errors.append(cell_error(row, column, raw, error))
    extra = {k: v for k, v in values.items() if k not in _STUDENT_KEYS}
    position = layout.index.get("class_number", -1)
    class_cell = cells[position] if 0 <= position < len(cells) else ""
    if errors:
        return Checked(row=row, data=None, extra=extra, errors=errors, class_cell=class_cell)
    return Checked(
        row=row,
        data=data,
        extra=extra,
        errors=errors,
        prepared=prepare(data, postgres=reader.postgres),
        class_cell=class_cell,
    )


def prepare(data: StudentData, *, postgres: bool) -> Prepared:
    """Pinyin, sealed numbers, blind indexes and the row's own columns of a valid row."""
    number = None
    if data.id_doc_type == codes.IdDocType.RESIDENT_ID:
        number = student_number_fields(g_number(data.id_number))
    document = document_fields(data.id_doc_type, data.id_number, context=STUDENT_ID_NUMBER)
    student = (
        data.name,
        *_spelled(data.name),
        data.sex,
        data.birth_date.isoformat(),
        data.birthplace_code,
        data.native_place_code or None,
        data.ethnicity,
        data.nationality,
        data.id_doc_type,
        document["id_number_masked"],
        document["id_number_sealed"],
        document["id_number_index"],
        data.overseas_status,
        data.health,
        data.hukou_division_code or None,
        data.hukou_nature,
        data.former_name,
        data.address,
        data.phone,
        data.attendance_mode,
        data.entry_method,
        data.only_child,
        data.attended_preschool,
        data.left_behind,
        data.migrant_child,
        data.orphan,
        data.martyr_family,
        data.inclusive_education,
        data.disability_type,
        data.needs_aid,
        data.needs_school_bus,
    )
    family = []
    for member in data.family:
        doc = document_fields(member.id_doc_type, member.id_number, context=FAMILY_ID_NUMBER)
        family.append(
            (
                member.relation,
                member.name,
                member.id_doc_type,
                doc["id_number_masked"],
                doc["id_number_sealed"],
                doc["id_number_index"],
                member.phone,
                member.employer,
                member.is_guardian,
                member.missing_reason,
            )
        )
    if postgres:
        return Prepared(
            document=document,
            number=number,
            student="\t".join(map(_pg, student)),
            family=["\t".join(map(_pg, values)) for values in family],
        )
    return Prepared(
        document=document,
        number=number,
        student=tuple(map(_sqlite, student)),
        family=[tuple(map(_sqlite, values)) for values in family],
    )


# ---- checking in forked workers ----------------------------------------------------------------

# What the forked workers check with, set in the parent just before forking (inherited, never
# pickled): the row reader and the codes of the current divisions.
_WORK: tuple[RowReader, frozenset[str]] | None = None


def _check_chunk(chunk: list[tuple[int, list[Any]]]) -> list[Checked]:
    """A worker's share: rows checked and prepared. It never touches the database connection it
    inherited (multiprocessing's forked workers leave through os._exit)."""
    assert _WORK is not None
    reader, divisions = _WORK
    known = divisions.__contains__
    return [check_student_row(reader, row, cells, division_exists=known) for row, cells in chunk]


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


def checked_rows(
    rows: Iterable[tuple[int, list[Any]]],
    reader: RowReader,
    *,
    division_exists: Callable[[str], bool],
    workers: int = 1,
    chunk_rows: int | None = None,
) -> Iterator[Checked]:
    """Every row checked, in the file's order; with workers > 1 by forked processes, a bounded
    number of chunks in flight (memory stays constant whatever the file's size)."""
    if workers <= 1:
        for row, cells in rows:
            yield check_student_row(reader, row, cells, division_exists=division_exists)
        return
    chunk_rows = chunk_rows or CHUNK_ROWS
    global _WORK
    _WORK = (reader, frozenset(Division.objects.values_list("code", flat=True)))
    context = multiprocessing.get_context("fork")
    try:
        with context.Pool(workers) as pool:
            _WORK = None  # the workers have their copy
            in_flight: deque[Any] = deque()
            # Enough for the workers to go on while this process writes a batch.
            max_in_flight = max(workers * 2, BATCH_ROWS // chunk_rows + workers)
            chunk: list[tuple[int, list[Any]]] = []
            for item in rows:
                chunk.append(item)
                if len(chunk) >= chunk_rows:
                    in_flight.append(pool.apply_async(_check_chunk, (chunk,)))
                    chunk = []
                    if len(in_flight) > max_in_flight:
                        yield from in_flight.popleft().get()
            if chunk:
                in_flight.append(pool.apply_async(_check_chunk, (chunk,)))
            while in_flight:
                yield from in_flight.popleft().get()
    finally:
        _WORK = None


# ---- writing -----------------------------------------------------------------------------------


@lru_cache(maxsize=100_000)
def _spelled(name: str) -> tuple[str, str]:
    """Pinyin and initials of a name; names repeat a lot in a school's file."""
    return name_pinyin(name), name_initials(name)


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _pg(value: Any) -> str:
    """A value in COPY's text format (imported text may hold tabs, newlines, backslashes)."""
    if type(value) is str:
        if _COPY_SPECIAL.search(value) is None:
            return value
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return _pg(str(value))


def _sqlite(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@dataclass
class Pending:
    row: int
    data: StudentData
    school_class: SchoolClass
    age_note: str
    prepared: Prepared


@dataclass
class StudentWriter:
    """Collects valid rows and writes them in batches: students, families, placements, events."""

    school: School
    actor: Any
    start_date: datetime.date
    on_written: Callable[[int], None] | None = None
    batch_rows: int = BATCH_ROWS
    pending: list[Pending] = field(default_factory=list)
    written: int = 0
    family_written: int = 0

    def __post_init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.dialect = synth.POSTGRES if self.postgres else synth.SQLITE
        self.now = synth.now_text(self.dialect)
        self.convert: Callable[[Any], Any] = _pg if self.postgres else _sqlite
        self.uuid_base = (time.time_ns() // 1_000_000) << 80 | (0x7 << 76) | (0b10 << 62)
        self.uuid_counter = 0

    def uuids(self, count: int) -> list[str]:
        """Time-ordered UUIDs (version 7: the import's start in milliseconds, a counter, 32
        random bits), so that the primary keys and the indexes led by student_id grow at their
        right edge instead of at random leaves."""
        start = self.uuid_counter
        self.uuid_counter += count
        randoms = struct.unpack(f"<{count}I", os.urandom(4 * count))
        base = self.uuid_base
        return [
            f"{base | (c >> 30) << 64 | (c & 0x3FFFFFFF) << 32 | r:032x}"
            for c, r in zip(range(start, start + count), randoms, strict=True)
        ]

    def add(self, item: Pending) -> None:
        self.pending.append(item)

    def full(self) -> bool:
        return len(self.pending) >= self.batch_rows

    def registry_duplicates(self) -> dict[int, str]:
        """Rows of the pending batch whose document number a record already holds: row ->
        school name (one query per batch through the blind index)."""
        wanted: dict[str, list[int]] = {}
        for item in self.pending:
            if item.data.id_number:
                key = item.prepared.document["id_number_index"]
                wanted.setdefault(key, []).append(item.row)
        found: dict[int, str] = {}
        if not wanted:
            return found
        holders: Iterable[tuple[str, str]]
        if self.postgres:
            # One array parameter: an IN list of thousands of parameters costs more to build
            # and to parse than the lookup itself.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT s.id_number_index, sc.name FROM {Student._meta.db_table} s "
                    f"JOIN {School._meta.db_table} sc ON sc.id = s.school_id "
                    "WHERE s.id_number_index = ANY(%s)",
                    [list(wanted)],
                )
                holders = cursor.fetchall()
        else:
            holders = Student.objects.filter(id_number_index__in=list(wanted)).values_list(
                "id_number_index", "school__name"
            )
        for index, school_name in holders:
            for row in wanted.get(index, []):
                found[row] = school_name
        return found

    def discard(self) -> None:
        self.pending = []

    def flush(self) -> None:
        if not self.pending:
            return
        convert = self.convert
        students: list[Any] = []  # lines of COPY text on PostgreSQL, tuples on SQLite
        family: list[Any] = []
        placements: list[Any] = []
        events: list[Any] = []
        today = self.start_date
        actor_id = getattr(self.actor, "pk", None)

        postgres = self.postgres
        state = RecordState.ENROLLED.value
        school_pk = str(self.school.pk)

        formatted: dict[tuple[Any, str], tuple[Any, Any]] = {}

        def row(*values: Any) -> Any:
            if postgres:
                return "\t".join(map(convert, values))
            return tuple(map(convert, values))

        # Three keys a student (its row, placement and event) and one a family member,
        # drawn at once, in key order.
        ids = iter(
            self.uuids(len(self.pending) * 3 + sum(len(i.data.family) for i in self.pending))
        )
        for item in self.pending:
            data = item.data
            prepared = item.prepared
            student_id = next(ids)
            if prepared.number is not None:
                sealed, kind = prepared.number, NumberKind.G
            else:
                number = _allocate_j_number(self.school.county_id, data.birth_date)
                sealed, kind = student_number_fields(number), NumberKind.J
            if postgres:
                students.append(
                    "\t".join(
                        (
                            student_id,
                            sealed["number_masked"],
                            sealed["number_sealed"],
                            sealed["number_index"],
                            kind,
                            prepared.student,  # type: ignore[arg-type]
                            state,
                            school_pk,
                            self.now,
                            self.now,
                        )
                    )
                )
                for ordinal, member in enumerate(prepared.family):
                    family.append(f"{next(ids)}\t{student_id}\t{ordinal}\t{member}")
            else:
                students.append(
                    (
                        student_id,
                        sealed["number_masked"],
                        sealed["number_sealed"],
                        sealed["number_index"],
                        kind,
                        *prepared.student,
                        state,
                        self.school.pk,
                        self.now,
                        self.now,
                    )
                )
                for ordinal, member in enumerate(prepared.family):
                    family.append((next(ids), student_id, ordinal, *member))
            school_class = item.school_class
            # The placement's and the event's columns other than the keys depend on the class
            # and the age note only: formatted once for each.
            shared = formatted.get((school_class.pk, item.age_note))
            if shared is None:
                detail = {
                    "school": self.school.code,
                    "class": school_class.pk,
                    "grade": school_class.grade,
                    "age_confirmation": item.age_note,
                    "import": True,
                }
                shared = formatted[(school_class.pk, item.age_note)] = (
                    row(
                        self.school.pk,
                        school_class.pk,
                        school_class.grade,
                        today.isoformat(),
                        None,
                        "registration",
                    ),
                    row(
                        EventKind.REGISTERED.value,
                        today.isoformat(),
                        self.now,
                        actor_id,
                        json.dumps(detail, ensure_ascii=False),
                    ),
                )
            if postgres:
                placements.append(f"{next(ids)}\t{student_id}\t{shared[0]}")
                events.append(f"{next(ids)}\t{student_id}\t{shared[1]}")
            else:
                placements.append((next(ids), student_id, *shared[0]))
                events.append((next(ids), student_id, *shared[1]))
        # wrap_database_errors: a unique violation raised by COPY (the raw driver's cursor)
        # becomes Django's IntegrityError, as from any other statement.
        with connection.cursor() as cursor, connection.wrap_database_errors:
            if self.postgres:
                tables = (*synth.TABLES, (EVENT_TABLE, EVENT_COLUMNS))
                texts = (students, family, placements, events)
                for (table, columns), lines in zip(tables, texts, strict=True):
                    if lines:
                        with cursor.cursor.copy(
                            f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                        ) as copy:
                            copy.write("\n".join(lines) + "\n")
            else:
                batch = synth.Batch()
                batch.rows[synth.STUDENT_TABLE].append(students)
                batch.rows[synth.FAMILY_TABLE].append(family)
                batch.rows[synth.PLACEMENT_TABLE].append(placements)
                synth.SqliteWriter(connection.connection).write(batch)
                connection.connection.executemany(
                    f"INSERT INTO {EVENT_TABLE} ({', '.join(EVENT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})",
                    events,
                )
        self.written += len(students)
        self.family_written += len(family)
        self.pending = []
        if self.on_written is not None:
            self.on_written(self.written)


def classes_of(school: School, academic_year: Any) -> dict[tuple[int, int], SchoolClass]:
    """The school's classes of the year by (grade, class number)."""
    return {
        (c.grade, c.number): c
        for c in SchoolClass.objects.filter(school=school, academic_year=academic_year)
    }


@dataclass
class Outcome:
    rows: int = 0
    written: int = 0
    family_members: int = 0
    error_count: int = 0
    errors: list[CellError] = field(default_factory=list)

    def add_errors(self, errors: Iterable[CellError]) -> None:
        for error in errors:
            self.error_count += 1
            if len(self.errors) < MAX_KEPT_ERRORS:
                self.errors.append(error)


def import_students_rows(
    *,
    rows: Iterable[tuple[int, list[Any]]],
    layout: Layout,
    school: School,
    academic_year: Any,
    actor: Any,
    start_date: datetime.date,
    progress: Callable[[int], None] | None = None,
    batch_rows: int | None = None,
    workers: int = 1,
) -> Outcome:
    """Check every row and write the valid file; call inside one transaction, and roll it back
    when the outcome has errors (rows written before the first error are then undone). With
    workers > 1 (PostgreSQL) forked processes check and prepare the rows, this one writes."""
    outcome = Outcome()
    reader = RowReader(layout)
    classes = classes_of(school, academic_year)
    year_start = academic_year.start_date
    writer = StudentWriter(
        school=school, actor=actor, start_date=start_date, batch_rows=batch_rows or BATCH_ROWS
    )
    seen: dict[int, int] = {}  # 8-byte fingerprint of the document index -> first row
    index = layout.index
    division_cache: dict[str, bool] = {}
    age_ranges: dict[int, tuple[int, int]] = {}

    def known_division(code: str) -> bool:
        found = division_cache.get(code)
        if found is None:
            found = division_cache[code] = division_exists(code)
        return found

    def flush() -> None:
        # The registry is asked about every valid row, also once the file is known to be bad,
        # so that the report names every problem; rows are written only while none was found.
        duplicates = writer.registry_duplicates()
        if duplicates:
            for item in writer.pending:
                if item.row in duplicates:
                    column = index.get("id_number", -1)
                    outcome.add_errors(
                        [
                            cell_error(
                                item.row,
                                column,
                                item.data.id_number,
                                ValidationError(
                                    _("This ID number is already registered at %(school)s."),
                                    code="id_number_registered",
                                    params={"school": duplicates[item.row]},
                                ),
                            )
                        ]
                    )
            writer.discard()
            return
        if outcome.error_count:
            writer.discard()
            return
        writer.flush()

    for checked in checked_rows(rows, reader, division_exists=known_division, workers=workers):
        row = checked.row
        outcome.rows += 1
        errors = checked.errors
        school_class = None
        grade, number = checked.extra.get("grade"), checked.extra.get("class_number")
        if isinstance(grade, int) and isinstance(number, int):
            school_class = classes.get((grade, number))
            if school_class is None:
                errors.append(
                    cell_error(
                        row,
                        index["class_number"],
                        checked.class_cell,
                        ValidationError(
                            _("The school has no class %(number)d in grade %(grade)d this year."),
                            code="class_not_found",
                            params={"grade": grade, "number": number},
                        ),
                    )
                )
        elif grade is None or number is None:
            key = "grade" if grade is None else "class_number"
            errors.append(
                cell_error(
                    row,
                    index[key],
                    "",
                    ValidationError(_("This cell is required."), code="required"),
                )
            )
        age_note = str(checked.extra.get("age_confirmation") or "").strip()
        data = checked.data
        if data is not None and school_class is not None:
            grade_ages = age_ranges.get(school_class.grade)
            if grade_ages is None:
                grade_ages = age_ranges[school_class.grade] = expected_age_range(school_class.grade)
            low, high = grade_ages
            age = age_on(data.birth_date, year_start)
            if not low <= age <= high and not age_note:
                errors.append(
                    cell_error(
                        row,
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
                )
        if data is not None and data.id_number:
            assert checked.prepared is not None
            key = checked.prepared.document["id_number_index"]
            fingerprint = int(key[:16], 16)
            first = seen.get(fingerprint)
            if first is not None:
                errors.append(
                    cell_error(
                        row,
                        index["id_number"],
                        data.id_number,
                        ValidationError(
                            _("The same ID number is already in row %(row)d of this file."),
                            code="duplicate_in_file",
                            params={"row": first},
                        ),
                    )
                )
            else:
                seen[fingerprint] = row
        if errors:
            outcome.add_errors(errors)
        elif data is not None and school_class is not None:
            assert checked.prepared is not None
            writer.add(
                Pending(
                    row=row,
                    data=data,
                    school_class=school_class,
                    age_note=age_note,
                    prepared=checked.prepared,
                )
            )
            if writer.full():
                flush()
        if progress is not None and outcome.rows % 1000 == 0:
            progress(outcome.rows)
    flush()
    if progress is not None:
        progress(outcome.rows)
    outcome.written = writer.written
    outcome.family_members = writer.family_written
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
    from xueji.yearend.services import intake_admit

    outcome = Outcome()
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
    return outcome


# ---- updates of other (non-basic) information -------------------------------------------------


def _basic_data(student: Student, changes: dict[str, Any]) -> StudentData:
    """The record's fields as StudentData with the changes applied; the family and the ID number
    are left out: no other-information rule depends on them, and their errors are not kept."""
    import dataclasses

    from xueji.students.services import student_data_of

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
    written with bulk updates in batches. Call inside one transaction; roll back on errors."""
    from xueji.students.identity import number_index
    from xueji.students.models import RecordEvent
    from xueji.students.services import OTHER_INFO_FIELDS

    outcome = Outcome()
    index = layout.index
    readers = {f.key: cols.reader_of(f) for f in layout.fields if f.key in index}
    today = datetime.date.today()
    batch: list[tuple[int, str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    actor_id = getattr(actor, "pk", None)

    def flush() -> None:
        if not batch:
            return
        keys = [number_index(number) for _row, number, _name, _changes in batch]
        found = {s.number_index: s for s in Student.objects.filter(number_index__in=keys)}
        changed: list[Student] = []
        events: list[RecordEvent] = []
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
                kept = {k: v for k, v in failed.errors.items() if k in changes}
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
                changed.append(student)
                events.append(
                    RecordEvent(
                        student=student,
                        kind=EventKind.INFO_UPDATED,
                        occurred_on=today,
                        actor_id=actor_id,
                        detail={"fields": updated, "import": True},
                    )
                )
        batch.clear()
        if outcome.error_count or not changed:
            return
        now = timezone.now()
        for student in changed:
            student.updated_at = now
        Student.objects.bulk_update(changed, [*OTHER_INFO_FIELDS, "updated_at"])
        RecordEvent.objects.bulk_create(events)
        outcome.written += len(changed)

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
    return outcome
