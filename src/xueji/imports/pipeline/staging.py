"""The importing process's share of new students: the checked rows wait in temporary tables of
the record's columns (no keys, no triggers, no write-ahead log) until the whole file has been
read; the duplicates within it and against the registry are then found with two queries, and a
file without a single error is written by the students app (records_insert_from_staging)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext_lazy as _

from xueji.imports.pipeline.cells import Outcome, RegistryLookup, cell_error
from xueji.imports.pipeline.chunk import ChunkResult
from xueji.imports.pipeline.copy_text import copy_lines
from xueji.schools.models import School
from xueji.students.bulk import (
    EVENT_TABLE,
    FAMILY_TABLE,
    PLACEMENT_TABLE,
    RECORD_TABLES_WITH_EVENTS,
    STUDENT_TABLE,
    records_insert_from_staging,
)
from xueji.students.identity import student_number_fields
from xueji.students.models import NumberKind, Student
from xueji.students.names import names_match
from xueji.students.services import student_number_allocate_j

BATCH_ROWS = 5_000

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
# The row's name too: another school's child is named only to a row of the record's name.
DOCUMENT_COLUMNS = ("id_doc_type", "id_number_index", "id_number_masked", "name", *WHERE_IN_FILE)
_EVERY_DOCUMENT = (
    f"(SELECT {', '.join(DOCUMENT_COLUMNS)} FROM {STAGED_STUDENT} "
    f"UNION ALL SELECT {', '.join(DOCUMENT_COLUMNS)} FROM {STAGED_DOCUMENT})"
)
# The file's documents under the other suites held while a change of suite is under way
# (xueji.students.sealing): the registry's records not yet re-indexed carry those digests.
STAGED_OTHER_SUITE_DOCUMENT = "xueji_import_other_suite_document"
_EVERY_DOCUMENT_EVERY_SUITE = (
    f"({_EVERY_DOCUMENT[1:-1]} "
    f"UNION ALL SELECT {', '.join(DOCUMENT_COLUMNS)} FROM {STAGED_OTHER_SUITE_DOCUMENT})"
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
            for documents in (STAGED_DOCUMENT, STAGED_OTHER_SUITE_DOCUMENT):
                cursor.execute(f"DROP TABLE IF EXISTS {documents}")
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {documents} (id_doc_type text, id_number_index "
                    "text, id_number_masked text, name text, chunk integer, chunk_row integer)"
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
            copy_lines(staging, columns, lines, like=table)
        documents = [line for result in pending for line in result.documents]
        copy_lines(STAGED_DOCUMENT, DOCUMENT_COLUMNS, documents, like=STUDENT_TABLE)
        others = [line for result in pending for line in result.other_suite_documents]
        if others:
            copy_lines(STAGED_OTHER_SUITE_DOCUMENT, DOCUMENT_COLUMNS, others, like=STUDENT_TABLE)
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
                cursor.execute(
                    f"ANALYZE {STAGED_STUDENT}, {STAGED_DOCUMENT}, {STAGED_OTHER_SUITE_DOCUMENT}"
                )
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
                "SELECT st.chunk, st.chunk_row, st.id_number_masked, st.name, s.id, s.name, "
                f"s.school_id, sc.name FROM {_EVERY_DOCUMENT_EVERY_SUITE} st "
                f"JOIN {Student._meta.db_table} s ON s.id_doc_type = st.id_doc_type "
                "AND s.id_number_index = st.id_number_index "
                f"JOIN {School._meta.db_table} sc ON sc.id = s.school_id "
                "WHERE st.id_number_index <> '' AND s.id_number_index <> ''"
            )
            self._registered(cursor)

    def _registered(self, held: Iterable[Sequence[Any]]) -> None:
        """Errors for the rows whose ID number a record holds. A record of the importer's school
        is named, as before; another school's is named only to a row of the record's name (folded
        as a registration folds it: xueji.students.names), else the row says only "registered at
        another school". Either answer about another school's child is a look-up, which the run
        counts before it shows the errors (Outcome.lookups)."""
        answered: set[int] = set()
        lookups: list[RegistryLookup] = []
        for chunk, row, masked, typed, student_id, recorded, school_id, school_name in held:
            sheet_row = self._sheet_row(chunk, row)
            if sheet_row in answered:  # the same record under two suites' indexes
                continue
            answered.add(sheet_row)
            own = school_id == self.school.pk
            named = own or names_match(typed or "", recorded)
            if named:
                error = ValidationError(
                    _("This ID number is already registered at %(school)s."),
                    code="id_number_registered",
                    params={"school": school_name},
                )
            else:
                error = ValidationError(
                    _(
                        "This ID number is already registered at another school. To take the "
                        "child in, file a transfer: the guardian applies at your school."
                    ),
                    code="registered_elsewhere",
                )
            kept = self.outcome.add_error(cell_error(sheet_row, self.id_column, masked, error))
            if not own:
                lookups.append(
                    RegistryLookup(
                        row=sheet_row,
                        student_id=str(uuid.UUID(str(student_id))),
                        school_named=named,
                        id_number_masked=masked,
                        error=kept,
                    )
                )
        self.outcome.lookups = sorted(lookups, key=lambda lookup: lookup.row)

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
            cursor.execute(f"DROP TABLE {STAGED_OTHER_SUITE_DOCUMENT}")
