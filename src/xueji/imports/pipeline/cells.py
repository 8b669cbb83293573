"""The errors of an import's cells, and the outcome that collects them (every purpose's)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError

from xueji.core.exports import mask_document_number, mask_identifiers
from xueji.core.jobs import in_both_languages
from xueji.imports import columns as cols
from xueji.imports.pipeline.layout import Layout

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


def cell_error(row: int, column: int, value: Any, error: ValidationError) -> CellError:
    """The error of a cell; resident ID numbers in the value are kept masked (the plain value is
    only in the uploaded file, which the school has)."""
    zh, en = in_both_languages(error.message, error.params)
    shown = mask_identifiers(cols.text_of(value))
    return CellError(row, column, shown, error.code or "invalid", zh, en)


@dataclass(frozen=True)
class RegistryLookup:
    """A row whose ID number a record of another school holds. Its error answers a question about
    a child outside the importer's school, so it is a look-up (xueji.access.lookups): given only
    within the importer's allowance of the hour, audited about that child."""

    row: int
    student_id: str
    school_named: bool  # the row's name is the record's: the error names the school
    id_number_masked: str
    error: CellError | None  # as kept among the outcome's errors; None past MAX_KEPT_ERRORS


@dataclass
class Outcome:
    rows: int = 0
    written: int = 0
    family_members: int = 0
    error_count: int = 0
    errors: list[CellError] = field(default_factory=list)
    # Records written per class (class pk -> count), kept on the job to link it to the rosters.
    classes: Counter[int] = field(default_factory=Counter)

    # The rows whose errors answer look-ups of other schools' children, for the run to count
    # before the errors are shown (xueji.imports.services).
    lookups: list[RegistryLookup] = field(default_factory=list)

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
            self.add_error(error)

    def add_error(self, error: CellError) -> CellError | None:
        """Count an error and keep it (its masked value) while fewer than MAX_KEPT_ERRORS are;
        the error as kept, or None."""
        if error.column in self.masked_columns:
            error = replace(error, value=mask_document_number(error.value))
        self.error_count += 1
        if len(self.errors) >= MAX_KEPT_ERRORS:
            return None
        self.errors.append(error)
        return error

    def withhold(self, lookups: Iterable[RegistryLookup]) -> None:
        """Take the errors of look-ups that may not be answered back out, uncounted too (the
        count of problems would otherwise tell how many there were)."""
        withheld = list(lookups)
        gone = {id(lookup.error) for lookup in withheld if lookup.error is not None}
        self.error_count -= len(withheld)
        if gone:
            self.errors = [error for error in self.errors if id(error) not in gone]
