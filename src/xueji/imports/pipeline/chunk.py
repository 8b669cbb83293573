"""A chunk of new students' rows (a block of a CSV's bytes, an .xlsx's slice or a list of a
spreadsheet's rows): what it is checked with and what comes out of it.

A chunk is read, checked and turned into the COPY text of its rows by one function
(xueji.imports.pipeline.checks.check_chunk), run by forked worker processes for a large file on
PostgreSQL and in this process otherwise. What needs the whole file (duplicates across chunks,
the registry, J numbers, the write) stays with the importing process, which receives per chunk
its errors, the document numbers' blind indexes and four strings of text."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from xueji.imports.pipeline.layout import Layout
from xueji.imports.xlsx import SlicedWorkbook

CHUNK_ROWS = 2_000


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
    # Every student's document under the other suites held while a change of suite is under way
    # (COPY lines of DOCUMENT_COLUMNS): a record the move has not yet re-indexed is a duplicate
    # too. Empty when one suite is held.
    other_suite_documents: list[str] = field(default_factory=list)


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
