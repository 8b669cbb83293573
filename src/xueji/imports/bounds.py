"""Bounds on a sheet's shape, checked on its bytes before any parser builds a row of it.

A parser's memory follows the rows it builds, not the file's size: one CSV line of 47 million
commas is a list of 47 million cells (the task worker went from 156 to 849 MB), one quoted field
of 45 MB is a 45 MB string copied three times on its way (424 MB), and an .xlsx of a few MB
inflates to a worksheet of any size. So every row is bounded in columns, in bytes, and every
cell in bytes, for a CSV by a scan of its bytes (scan_csv) and for an .xlsx while its worksheet
is streamed (xueji.imports.xlsx): a file past a bound is refused naming the row and the column,
and the import's memory stays far below the README's 500 MB whatever the file holds.

The bounds are far above what a school's file needs: the national collection form has about a
hundred columns, a cell holds at most 32,767 characters (Excel's limit), a row of the students
template a few KB.
"""

from __future__ import annotations

from typing import IO

from django.utils.translation import gettext_lazy as _

from xueji.core.errors import translated
from xueji.imports.safety import UnsafeFile

# Columns A to ZZ.
MAX_COLUMNS = 702
# 32,767 characters of 4 bytes at most (UTF-8), rounded up: every cell Excel can hold passes.
MAX_CELL_BYTES = 128 * 1024
MAX_ROW_BYTES = 16 * 1024 * 1024
_READ_BYTES = 1 << 20


def column_letters(number: int) -> str:
    """A column's letters as Excel shows them (1: A, 27: AA, 703: AAA)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def too_many_columns(row: int) -> UnsafeFile:
    return UnsafeFile(
        "too_many_columns",
        translated(
            _(
                "Row %(row)d has more than %(limit)d columns (it goes on past column %(last)s); "
                "a sheet of the import has a few dozen. Delete the columns after the data (or "
                "the stray separators) and save the file again."
            ),
            {"row": row, "limit": MAX_COLUMNS, "last": column_letters(MAX_COLUMNS)},
        ),
        row=row,
        column=MAX_COLUMNS + 1,
    )


def cell_too_large(row: int, column: int, limit: int = MAX_CELL_BYTES) -> UnsafeFile:
    return UnsafeFile(
        "cell_too_large",
        translated(
            _(
                "The cell in row %(row)d, column %(column)s holds more than %(limit)d KB of "
                "text, more than a cell can hold (32,767 characters). Check that cell (often a "
                "quotation mark left open, which runs the rest of the file into one cell) and "
                "save the file again."
            ),
            {"row": row, "column": column_letters(column), "limit": limit // 1024},
        ),
        row=row,
        column=column,
    )


def row_too_large(row: int) -> UnsafeFile:
    return UnsafeFile(
        "row_too_large",
        translated(
            _(
                "Row %(row)d takes more than %(limit)d MB, far more than a row of a template; "
                "check it (often a quotation mark left open) and save the file again."
            ),
            {"row": row, "limit": MAX_ROW_BYTES // 2**20},
        ),
        row=row,
    )


class _CsvShape:
    """The scan's state between reads: where it is in the file's records and cells."""

    def __init__(self) -> None:
        self.row = 1  # records as the import numbers them (the header is row 1)
        self.column = 1
        self.cell = 0  # bytes of the current cell so far
        self.row_bytes = 0
        self.quoted = False

    def unquoted(self, block: bytes, start: int, end: int) -> None:
        """Bytes outside quotes: separators and line ends count."""
        at = start
        while True:
            line_end = block.find(b"\n", at, end)
            stop = end if line_end < 0 else line_end
            self._cells(block, at, stop)
            if line_end < 0:
                return
            self.row += 1
            self.column = 1
            self.cell = 0
            self.row_bytes = 0
            at = line_end + 1

    def _cells(self, block: bytes, start: int, stop: int) -> None:
        """A piece of one record outside quotes."""
        commas = block.count(b",", start, stop)
        if self.column + commas > MAX_COLUMNS:
            raise too_many_columns(self.row)
        self.row_bytes += stop - start
        if self.row_bytes > MAX_ROW_BYTES:
            raise row_too_large(self.row)
        if not commas:
            self.grow(stop - start)
            return
        if self.cell + stop - start > MAX_CELL_BYTES:
            # Only a long piece can hold a long cell: find it (at most MAX_COLUMNS commas).
            at = start
            for _comma in range(commas):
                comma = block.find(b",", at, stop)
                self.grow(comma - at)
                self.column += 1
                self.cell = 0
                at = comma + 1
            self.grow(stop - at)
            return
        self.column += commas
        self.cell = stop - block.rfind(b",", start, stop) - 1

    def grow(self, count: int) -> None:
        self.cell += count
        if self.cell > MAX_CELL_BYTES:
            raise cell_too_large(self.row, self.column)

    def inside_quotes(self, count: int) -> None:
        self.grow(count)
        self.row_bytes += count
        if self.row_bytes > MAX_ROW_BYTES:
            raise row_too_large(self.row)


def scan_csv(handle: IO[bytes]) -> int:
    """Check every record of a CSV against the bounds, from its bytes (UnsafeFile naming the
    row and the column otherwise); the number of records, the header's included.

    Quotes are counted as the blocks of the import are cut (xueji.imports.reading): a quote
    opens or closes a quoted stretch, a doubled quote closes and opens one. A quote, a comma
    or a line feed byte is never part of a multi-byte character in UTF-8 or GB18030."""
    shape = _CsvShape()
    last = b""
    while block := handle.read(_READ_BYTES):
        last = block[-1:]
        at, size = 0, len(block)
        while at < size:
            quote = block.find(b'"', at)
            end = size if quote < 0 else quote
            if shape.quoted:
                shape.inside_quotes(end - at)
            else:
                shape.unquoted(block, at, end)
            if quote < 0:
                break
            shape.quoted = not shape.quoted
            shape.inside_quotes(1)
            at = quote + 1
    # A last record without a line end is a record too; a file that ends with one has none after.
    return shape.row - 1 if last in (b"\n", b"") else shape.row
