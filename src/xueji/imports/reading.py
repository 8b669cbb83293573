"""Reading an uploaded sheet as rows of cell values, after xueji.imports.safety passed it.

Spreadsheets (.xlsx, .xls, .ods) are read with python-calamine: formula cells come back as the
value Excel cached when it saved the file, and are never evaluated. An .xlsx is read a slice of
rows at a time (xueji.imports.xlsx), in bounded memory; .xls and .ods are read whole. CSV is
decoded as UTF-8 or GB18030 (what Chinese offices' Excel writes as "CSV") and read line by
line, in constant memory.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _
from python_calamine import CalamineError, CalamineWorkbook

from xueji.core.errors import translated
from xueji.core.filecrypt import FileTampered
from xueji.imports import bounds
from xueji.imports.safety import CSV, MAX_WHOLE_XLSX_XML_BYTES, XLSX, Sniffed, UnsafeFile
from xueji.imports.source import Source
from xueji.imports.xlsx import (
    MAX_SHEET_CELLS,
    NotSliceable,
    SlicedWorkbook,
    UnreadableSheet,
    XlsxSlice,
    check_whole_sheet,
)

__all__ = ["Sheet", "Sniffed", "Source", "nonblank", "open_sheet", "refusal_of"]


@dataclass
class Sheet:
    """The header row and an iterator of (row number as Excel counts it, cells)."""

    name: str
    header: list[Any]
    rows: Iterator[tuple[int, list[Any]]]
    total: int
    # The rows as chunks the import's workers read themselves: a CSV's records after the header
    # in blocks of whole records (bytes, in the file's encoding), or an .xlsx's slices (the
    # header's included, read with `workbook`); None for .xls and .ods.
    blocks: Iterator[bytes] | Iterator[XlsxSlice] | None = None
    encoding: str = ""
    workbook: SlicedWorkbook | None = None


def open_sheet(path: Path | Source, sniffed: Sniffed) -> Sheet:
    """The first sheet (the data sheet of our templates) of a checked file: a plain file, or a
    kept upload decrypted as it is read. A file past xueji.imports.bounds is refused (naming the
    row and the column) before any row of it is built; a kept upload that does not decrypt
    (altered on disk) is refused as damaged."""
    source = Source.of(path)
    try:
        if sniffed.kind == CSV:
            return _csv_sheet(source, sniffed.encoding)
        if sniffed.kind == XLSX:
            try:
                return _sliced_sheet(SlicedWorkbook(source))
            except NotSliceable:
                _check_whole_xlsx(source)
            except UnreadableSheet as error:
                raise refusal_of(error) from None
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                raise _unreadable(error) from None
        return _calamine_sheet(source)
    except FileTampered:
        raise UnsafeFile(
            "stored_file_damaged",
            _("The kept copy of this file is damaged and cannot be read; upload the file again."),
        ) from None


def _check_whole_xlsx(source: Source) -> None:
    """An .xlsx the slicer cannot cut is read whole by calamine: refused above a size whose
    cells would not fit in the import's memory, or when its cells lie so far apart, or its rows
    are so wide, that calamine's copy of them would not (xlsx.check_whole_sheet)."""
    with source.open() as handle, zipfile.ZipFile(handle) as archive:
        size = sum(
            info.file_size
            for info in archive.infolist()
            if info.filename.startswith("xl/worksheets/") or info.filename == "xl/sharedStrings.xml"
        )
        if size <= MAX_WHOLE_XLSX_XML_BYTES:
            try:
                check_whole_sheet(archive)
            except UnreadableSheet as error:
                raise refusal_of(error) from None
    if size > MAX_WHOLE_XLSX_XML_BYTES:
        raise UnsafeFile(
            "read_whole_too_large",
            translated(
                _(
                    "This .xlsx file is laid out in a way that has to be read at once, and is "
                    "too large for that (%(size)d MB of cells, at most %(limit)d MB); open it in "
                    "Excel or WPS and save it again, or save it as CSV."
                ),
                {"size": -(-size // 2**20), "limit": MAX_WHOLE_XLSX_XML_BYTES // 2**20},
            ),
        )


def nonblank(cells: list[Any]) -> bool:
    """Whether a row holds anything (blank rows are skipped, and keep their numbers)."""
    return any(cell not in (None, "") for cell in cells)


def _unreadable(error: Exception) -> UnsafeFile:
    return UnsafeFile(
        "unreadable", translated(_("The file cannot be read: %(error)s"), {"error": error})
    )


def refusal_of(error: UnreadableSheet) -> UnsafeFile:
    """The refusal a registrar reads for a slice of an .xlsx that could not be read."""
    if error.code == "sheet_too_large":
        return UnsafeFile(
            "sheet_too_large",
            translated(
                _(
                    "The sheet has %(cells)d cells, more than %(limit)d; split it into several "
                    "files or save it as CSV."
                ),
                {"cells": error.cells, "limit": MAX_SHEET_CELLS},
            ),
        )
    if error.code == "strings_too_large":
        return UnsafeFile(
            "strings_too_large",
            _(
                "The sheet holds more text than can be read safely (a cell longer than Excel "
                "allows, or over 64 MB of text in a few thousand rows); split it into several "
                "files or save it as CSV."
            ),
        )
    if error.code == "too_many_columns":
        return bounds.too_many_columns(error.row)
    if error.code == "cell_too_large":
        return bounds.cell_too_large(error.row, error.column, error.limit)
    if error.code == "row_too_large":
        return bounds.row_too_large(error.row)
    if error.code == "part_too_large":
        return UnsafeFile(
            "part_too_large",
            _(
                "A part of the workbook besides its cells (such as its styles) is unusually "
                "large and cannot be read safely; open the file in Excel or WPS and save it "
                "again, or save it as CSV."
            ),
        )
    return _unreadable(error)


def _sliced_sheet(workbook: SlicedWorkbook) -> Sheet:
    def numbered() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from workbook.rows()
        except UnreadableSheet as error:
            raise refusal_of(error) from None
        except (CalamineError, OSError, ValueError, zipfile.BadZipFile) as error:
            raise _unreadable(error) from None

    try:
        total = max(workbook.last_row_number() - 1, 0)
        rows = numbered()
        first = next(rows, None)
    except (OSError, zipfile.BadZipFile) as error:
        raise _unreadable(error) from None
    header: list[Any] = []
    if first is not None and first[0] == 1:
        header = first[1]
    elif first is not None:
        rows = itertools.chain([first], rows)
    body = ((number, cells) for number, cells in rows if nonblank(cells))
    return Sheet(
        name=workbook.sheet_name,
        header=header,
        rows=body,
        total=total,
        blocks=workbook.slices(),
        workbook=workbook,
    )


def _calamine_sheet(source: Source) -> Sheet:
    try:
        # A kept upload is given to calamine as bytes (decrypted in memory, within the upload
        # limit: no plaintext copy on disk); a plain file by its path.
        opened = (
            CalamineWorkbook.from_path(str(source.path))
            if source.path is not None
            else CalamineWorkbook.from_filelike(io.BytesIO(source.read_all()))
        )
        with opened as workbook:
            # The sheet's cells are its own copy: closing the workbook frees the shared strings
            # table and the archive while the rows are read.
            sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
        header = list(next(rows, []))
    except (CalamineError, OSError, ValueError) as error:
        raise _unreadable(error) from None
    total = max(sheet.height - 1, 0)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        for index, cells in enumerate(rows, start=2):
            if nonblank(cells):
                yield index, list(cells)

    return Sheet(name=sheet.name, header=header, rows=numbered(), total=total)


CSV_BLOCK_BYTES = 1 << 20


def _csv_sheet(source: Source, encoding: str) -> Sheet:
    with source.open() as scanning:
        # Every record within bounds, from the bytes, before the csv module builds one.
        total = max(bounds.scan_csv(scanning) - 1, 0)
    with source.open() as handle:
        start = handle.read(CSV_BLOCK_BYTES)
        header_end = _first_record_end(start)
        while header_end == 0 and len(start) % CSV_BLOCK_BYTES == 0 and start:
            more = handle.read(CSV_BLOCK_BYTES)
            if not more:
                break
            start += more
            header_end = _first_record_end(start)
    header_bytes = start[:header_end] if header_end else start
    header = next(csv.reader(io.StringIO(header_bytes.decode(encoding), newline="")), [])
    offset = len(header_bytes)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        with source.open() as raw:
            raw.seek(offset)
            reader = csv.reader(io.TextIOWrapper(raw, encoding=_body(encoding), newline=""))
            for index, cells in enumerate(reader, start=2):
                if nonblank(cells):
                    yield index, cells

    return Sheet(
        name=source.name,
        header=header,
        rows=numbered(),
        total=total,
        blocks=csv_blocks(source, offset),
        encoding=_body(encoding),
    )


def _body(encoding: str) -> str:
    # The byte order mark is at the start of the file, before the header: never in a block.
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _first_record_end(data: bytes) -> int:
    """The position after the first line end outside quotes (0: none yet). A quote or a line
    feed byte is never part of a multi-byte character in UTF-8 or GB18030, so bytes will do."""
    end = data.find(b"\n")
    while end >= 0:
        if data.count(b'"', 0, end) % 2 == 0:
            return end + 1
        end = data.find(b"\n", end + 1)
    return 0


def _last_record_end(data: bytes) -> int:
    """The position after the last line end outside quotes (0: none)."""
    end = data.rfind(b"\n")
    quotes = data.count(b'"', 0, end) if end >= 0 else 0
    while end >= 0:
        if quotes % 2 == 0:
            return end + 1
        previous = data.rfind(b"\n", 0, end)
        quotes -= data.count(b'"', previous + 1 if previous >= 0 else 0, end)
        end = previous
    return 0


def csv_blocks(path: Path | Source, offset: int) -> Iterator[bytes]:
    """The file from `offset` in blocks of about CSV_BLOCK_BYTES that end at a record's end (a
    quoted cell may hold line breaks; bounds.scan_csv has bounded a record's length)."""
    with Source.of(path).open() as handle:
        handle.seek(offset)
        carry = b""
        while True:
            data = handle.read(CSV_BLOCK_BYTES)
            if not data:
                if carry:
                    yield carry
                return
            data = carry + data
            end = _last_record_end(data)
            if end == 0:
                carry = data
                continue
            yield data[:end]
            carry = data[end:]
