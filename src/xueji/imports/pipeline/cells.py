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
