"""An .xlsx read by python-calamine one slice of rows at a time, in bounded memory.

python-calamine loads a whole worksheet before it returns its first row (about 80 bytes a cell:
370 MB for 100,000 rows of the students template) and has no lazy reader (python-calamine#42,
calamine#27). So the worksheet's XML is inflated as a stream and cut after a row's end every
XLSX_SLICE_BYTES; each slice becomes a small workbook of its own (the original's workbook,
relationships, styles and shared strings, and a worksheet of just those rows) that calamine
reads. Every cell is still read by calamine, with its types, dates (the workbook's 1900 or 1904
system and the styles' number formats), shared and inline strings and formulas' saved values;
the rows keep the numbers Excel shows, whatever the slice.
"""

from __future__ import annotations

import io
import itertools
import os
import posixpath
import re
import tempfile
import weakref
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from python_calamine import CalamineError, CalamineWorkbook

from xueji.imports.bounds import MAX_COLUMNS, MAX_ROW_BYTES
from xueji.imports.source import Source

XLSX_SLICE_BYTES = 4 << 20
# python-calamine holds every cell of a slice's used range, the empty ones too (about 80 bytes
# each): this bounds one slice to about 160 MB. A slice of 4 MB of rows has about 150,000 cells;
# only rows (or columns) far apart come near it.
MAX_SHEET_CELLS = 2_000_000
# An Excel cell holds at most 32,767 characters; one shared string's XML (its runs, fonts and
# phonetic guides included) far above that is not a spreadsheet's, nor is a cell's own XML.
MAX_SHARED_STRING_BYTES = 1 << 20
MAX_CELL_XML_BYTES = MAX_SHARED_STRING_BYTES
# A row shorter than this cannot hold more than MAX_COLUMNS cells (<c/> is 4 bytes).
_FEW_CELLS_BYTES = 4 * MAX_COLUMNS
# The strings one slice's rows use, together (calamine holds them as cells besides).
MAX_SLICE_STRINGS_BYTES = 64 << 20
# The workbook's other parts go into every slice: a styles part is a few hundred KB.
MAX_SHARED_PART_BYTES = 16 << 20
_READ_BYTES = 1 << 20
_STRINGS_READ_BYTES = 1 << 20
# How far into the shared strings part its root element may start.
_STRINGS_ROOT_WITHIN = 1 << 16
# Strings a slice does not use that its reads may pass over rather than seek past.
_RUN_GAP = 64
_READ_GAP_BYTES = 16 << 10

_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_SHARED_STRINGS = "xl/sharedStrings.xml"
# What calamine reads besides the worksheet (at these fixed paths; the content types tell it
# the kind of workbook).
_SHARED_PARTS = (
    "[Content_Types].xml",
    "_rels/.rels",
    _WORKBOOK,
    _WORKBOOK_RELS,
    "xl/styles.xml",
    _SHARED_STRINGS,
)
_RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# Elements of the main namespace may carry a prefix (<x:row>) where a producer declares one.
_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_ROOT = re.compile(rb"<(" + _PREFIX + rb")worksheet[\s>]")
_SHEET_DATA = re.compile(rb"<" + _PREFIX + rb"sheetData(\s*/)?>")
_ROW_START = re.compile(rb"<" + _PREFIX + rb"row[\s>/]")
_ROW_NUMBER = re.compile(rb"<" + _PREFIX + rb"row\s[^>]*?\br=[\"'](\d+)[\"']")
_STRINGS_ROOT = re.compile(rb"<(" + _PREFIX + rb")sst\b[^>]*>")
# A cell of type "s" and its <v>: the value is an index into the shared strings table.
_SHARED_CELL_INDEX = re.compile(
    rb"(<" + _PREFIX + rb"c\s[^>]*?\bt=[\"']s[\"'][^>]*>\s*<" + _PREFIX + rb"v>\s*)(\d+)(\s*<)"
)
# The used range a worksheet declares at its top (only the progress bar trusts it).
_DIMENSION = re.compile(rb'<dimension\s+ref="[A-Z]+(\d+)(?::[A-Z]+(\d+))?"')
_ANY_ROW_END = re.compile(rb"</" + _PREFIX + rb"row>")
_ANY_CELL_START = re.compile(rb"<" + _PREFIX + rb"c[\s>/]")
_DIMENSION_PAST_BOUNDS = re.compile(rb'<dimension\s+ref="[^"]*[A-Z]{3}\d')
_COLUMN = re.compile(rb"\sr=[\"']([A-Z]{1,3})\d")
_CELL_REFERENCE = re.compile(rb"\sr=[\"']([A-Z]{1,3})(\d+)[\"']")
# A cell reference past MAX_COLUMNS (ZZ): three letters.
_PAST_LAST_COLUMN = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?\br=[\"'][A-Z]{3}\d")
# (a cell reference that would make the slice wider, the width when there is none), widest
# last: a template's 47 columns need the first search only.
_NARROWER_THAN = [
    (re.compile(rb"\sr=[\"'](?:[A-Z]{3}|[B-Z][A-Z])\d"), 52),  # nothing from BA on: at most AZ
    (re.compile(rb"\sr=[\"'][A-Z]{3}\d"), 702),  # nothing from AAA on: at most ZZ
]


@dataclass(frozen=True)
class XlsxSlice:
    """A complete worksheet of some of the sheet's rows (a chunk of the import)."""

    xml: bytes


class NotSliceable(Exception):
    """The workbook is laid out in a way the slicer does not know; read it whole instead."""


class UnreadableSheet(ValueError):
    """A slice cannot be read (a plain exception: it crosses from the import's workers)."""

    def __init__(
        self, code: str, detail: str, cells: int = 0, row: int = 0, column: int = 0, limit: int = 0
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.cells = cells
        self.row = row
        self.column = column
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            UnreadableSheet,
            (self.code, str(self), self.cells, self.row, self.column, self.limit),
        )


def first_sheet(archive: zipfile.ZipFile) -> tuple[str, str]:
    """The name and zip path of the workbook's first sheet, resolved as calamine does."""
    try:
        workbook = ElementTree.fromstring(archive.read(_WORKBOOK))
        relationships = ElementTree.fromstring(archive.read(_WORKBOOK_RELS))
    except (KeyError, ElementTree.ParseError) as error:
        raise NotSliceable(str(error)) from None
    sheet = next(workbook.iterfind(".//{*}sheet"), None)
    if sheet is None:
        raise NotSliceable("no sheet")
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in relationships.iterfind(".//{*}Relationship")
    }
    target = targets.get(sheet.get(_RELATIONSHIP_ID))
    if not target:
        raise NotSliceable("no relationship for the first sheet")
    if target.startswith("/xl/"):
        part = target[1:]
    elif target.startswith("xl/"):
        part = target
    else:
        part = posixpath.join("xl", target)
    if not part.startswith("xl/worksheets/") or part not in archive.namelist():
        raise NotSliceable(f"first sheet at {part}")
    return sheet.get("name", ""), part


class SlicedWorkbook:
    """The first worksheet of an .xlsx as slices of whole rows, each read by calamine."""

    def __init__(self, path: Path | Source) -> None:
        self.source = Source.of(path)
        with self.source.open() as handle, zipfile.ZipFile(handle) as archive:
            self.sheet_name, self.sheet_part = first_sheet(archive)
            sizes = {info.filename: info.file_size for info in archive.infolist()}
            self.parts = {}
            for name in _SHARED_PARTS:
                if name not in sizes or name == _SHARED_STRINGS:
                    continue
                if sizes[name] > MAX_SHARED_PART_BYTES:
                    raise UnreadableSheet("part_too_large", f"{name} takes {sizes[name]} bytes")
                self.parts[name] = archive.read(name)
            with archive.open(self.sheet_part) as member:
                head = member.read(_READ_BYTES)
            declared = _DIMENSION.search(head)
            self.declared_last_row = int(declared[2] or declared[1]) if declared else None
            if declared and _DIMENSION_PAST_BOUNDS.search(head):
                # A used range past the bounds is a claim, not a measure: count the rows.
                self.declared_last_row = None
            root = _ROOT.search(head)
            if root is None:
                raise NotSliceable("no worksheet element at the start of the part")
            first_row = _ROW_START.search(head)
            if first_row is not None and not _ROW_NUMBER.match(head, first_row.start()):
                # calamine numbers rows without an r attribute by their place in the part: in a
                # slice that place is not the sheet's.
                raise NotSliceable("rows without numbers")
            self.prefix = root[1]
            self.row_start = b"<" + self.prefix + b"row"
            self.row_end = b"</" + self.prefix + b"row>"
            if _SHARED_STRINGS in sizes:
                with archive.open(_SHARED_STRINGS) as member:
                    self.strings = SharedStrings(member, cell_prefix=self.prefix)
            else:
                self.strings = SharedStrings(None)

    def xml_slices(self) -> Iterator[bytes]:
        """The worksheet's XML as complete worksheets of at most about XLSX_SLICE_BYTES of
        rows each (a row is never split)."""
        with (
            self.source.open() as handle,
            zipfile.ZipFile(handle) as archive,
            archive.open(self.sheet_part) as member,
        ):
            buffer = b""
            found = None
            while found is None:
                data = member.read(_READ_BYTES)
                if not data:
                    return
                buffer += data
                root = _ROOT.search(buffer)
                found = _SHEET_DATA.search(buffer, root.end()) if root else None
            assert root is not None
            prefix = self.prefix
            # Everything before the rows (dimension, views, columns) is left out: calamine
            # would size its range from a dimension that is not the slice's.
            opening = buffer[: buffer.index(b">", root.start()) + 1]
            head = opening + b"<" + prefix + b"sheetData>"
            tail = b"</" + prefix + b"sheetData></" + prefix + b"worksheet>"
            if found[1]:  # <sheetData/>: no rows at all
                return
            data_end = b"</" + prefix + b"sheetData>"
            buffer = buffer[found.end() :]
            while True:
                end = buffer.find(data_end)
                rows = buffer[:end] if end >= 0 else buffer
                while len(rows) > XLSX_SLICE_BYTES and (cut := self._cut(rows)):
                    self._check_rows(rows, cut)
                    yield head + rows[:cut] + tail
                    rows = rows[cut:]
                if end >= 0:
                    if rows.strip():
                        self._check_rows(rows, len(rows))
                        yield head + rows + tail
                    return
                if len(rows) > MAX_ROW_BYTES:
                    # No row ends in all this (the loop above would have cut it): the row
                    # being read is past the bound, refused before it is read any further.
                    raise _row_too_large(rows, 0, self.row_start)
                data = member.read(_READ_BYTES)
                if not data:
                    raise UnreadableSheet("unreadable", "the worksheet ends inside its rows")
                buffer = rows + data

    def _check_rows(self, rows: bytes, end: int) -> None:
        """The rows in rows[:end] within xueji.imports.bounds, from their XML, before calamine
        reads them: no row longer than MAX_ROW_BYTES, none with a cell past column ZZ or more
        than MAX_COLUMNS cells, no cell's XML longer than MAX_CELL_XML_BYTES."""
        past = _PAST_LAST_COLUMN.search(rows, 0, end)
        if past is not None:
            raise UnreadableSheet(
                "too_many_columns",
                "a cell past the last column",
                row=_row_number_at(rows, past.start(), self.row_start),
            )
        cell_tags = [b"<" + self.prefix + b"c" + end_ for end_ in (b" ", b">", b"/>")]
        start = 0
        while start < end:
            close = rows.find(self.row_end, start, end)
            stop = end if close < 0 else close + len(self.row_end)
            length = stop - start
            if length > _FEW_CELLS_BYTES:
                if length > MAX_ROW_BYTES:
                    raise _row_too_large(rows, start, self.row_start)
                cells = sum(rows.count(tag, start, stop) for tag in cell_tags)
                if cells > MAX_COLUMNS:
                    raise UnreadableSheet(
                        "too_many_columns",
                        f"{cells} cells in one row",
                        row=_row_number_at(rows, start, self.row_start),
                    )
                if length > MAX_CELL_XML_BYTES:
                    self._check_cells(rows, start, stop, cell_tags)
            start = stop

    def _check_cells(self, rows: bytes, start: int, stop: int, tags: list[bytes]) -> None:
        """No cell of a long row (at most MAX_COLUMNS cells) longer than MAX_CELL_XML_BYTES."""
        positions = sorted(
            found.start()
            for found in re.finditer(b"|".join(re.escape(tag) for tag in tags), rows[start:stop])
        )
        bounds_ = [*positions, stop - start]
        for column, (first, after) in enumerate(itertools.pairwise(bounds_), start=1):
            if after - first > MAX_CELL_XML_BYTES:
                reference = _CELL_REFERENCE.match(rows, start + first + len(tags[0]) - 1)
                raise UnreadableSheet(
                    "cell_too_large",
                    f"a cell of {after - first} bytes",
                    row=_row_number_at(rows, start, self.row_start),
                    column=_column_number(reference[1]) if reference else column,
                    limit=MAX_CELL_XML_BYTES,
                )

    def _cut(self, rows: bytes) -> int:
        """The position after the last row that ends within XLSX_SLICE_BYTES (or after the
        first row, if it is longer), never inside a CDATA section or a comment (which may hold
        anything); 0: no row ends in `rows` yet."""
        end = rows.rfind(self.row_end, 0, XLSX_SLICE_BYTES)
        if end < 0:
            end = rows.find(self.row_end)
        while end >= 0:
            cut = end + len(self.row_end)
            if rows.count(b"<![CDATA[", 0, cut) == rows.count(b"]]>", 0, cut) and rows.count(
                b"<!--", 0, cut
            ) == rows.count(b"-->", 0, cut):
                return cut
            end = rows.find(self.row_end, cut)
        return 0

    def workbook_of(self, sheet_xml: bytes) -> bytes:
        """A workbook holding the original's shared parts and `sheet_xml` as its first sheet,
        with only the shared strings that sheet uses."""
        sheet_xml, strings = self.strings.subset_for(sheet_xml)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for name, data in self.parts.items():
                archive.writestr(name, data)
            if strings:
                archive.writestr(_SHARED_STRINGS, strings)
            archive.writestr(self.sheet_part, sheet_xml)
        return out.getvalue()

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number as Excel counts it, cells from column A) for every row calamine finds,
        slice by slice."""
        for sheet_xml in self.xml_slices():
            yield from self.rows_of(XlsxSlice(sheet_xml))

    def slices(self) -> Iterator[XlsxSlice]:
        """The slices, for the import's workers to read with rows_of."""
        return (XlsxSlice(sheet_xml) for sheet_xml in self.xml_slices())

    def rows_of(self, piece: XlsxSlice) -> list[tuple[int, list[Any]]]:
        """The rows of one slice, read by calamine, with the sheet's row numbers."""
        self._check_span(piece.xml)
        try:
            with CalamineWorkbook.from_filelike(io.BytesIO(self.workbook_of(piece.xml))) as book:
                sheet = book.get_sheet_by_index(0)
                if sheet.start is None:
                    return []
                top, left = sheet.start
                cells = sheet.to_python()
        except CalamineError as error:
            raise UnreadableSheet("unreadable", str(error)) from None
        padding = [""] * left
        return [
            (number, padding + row if left else row)
            for number, row in enumerate(cells, start=top + 1)
        ]

    def _check_span(self, sheet_xml: bytes) -> None:
        """calamine holds every cell from a slice's first used row and column to its last, the
        empty ones too: rows far apart (or columns) would make a few bytes cost gigabytes."""
        first = _ROW_NUMBER.search(sheet_xml)
        last = _ROW_NUMBER.match(sheet_xml, sheet_xml.rfind(self.row_start))
        if first is None or last is None:
            return  # rows without numbers follow each other
        rows = int(last[1]) - int(first[1]) + 1
        # The widest column bounded by the few searches that are enough for most slices
        # (each stops at its first match), counted exactly only if that bound is too wide.
        columns = 16_384  # XFD
        for wider, bound in _NARROWER_THAN:
            if wider.search(sheet_xml) is None:
                columns = bound
                break
        if rows * columns > MAX_SHEET_CELLS:
            columns = max(_column_number(letters) for letters in _COLUMN.findall(sheet_xml))
        if rows * columns > MAX_SHEET_CELLS:
            raise UnreadableSheet(
                "sheet_too_large",
                f"rows {first[1].decode()} to {last[1].decode()} span {rows * columns} cells",
                rows * columns,
            )

    def last_row_number(self) -> int:
        """The number of the sheet's last row (what the progress bar counts towards): from the
        used range the sheet declares at its top, or else by counting its rows."""
        if self.declared_last_row is not None:
            return self.declared_last_row
        last = 0
        for sheet_xml in self.xml_slices():
            numbers = _ROW_NUMBER.findall(sheet_xml)
            last = int(numbers[-1]) if numbers else last + sheet_xml.count(self.row_end)
        return last


class SharedStrings:
    """The workbook's shared strings table, from which each slice gets the strings it uses.

    calamine parses the whole table whenever it opens a workbook; a slice with the whole table
    would cost a parse of every string of the file per slice (a 100,000-row file saved by Excel
    has about 20 MB of them). So each slice gets a table of its own strings only, renumbered in
    its cells.

    The table is inflated into a temporary file, with the offsets of its strings in another:
    a 50 MB upload may hold 600 MB of strings for a sheet of a few rows. Memory holds one read
    at a time; each slice reads back only the runs of strings it uses (with os.pread, so the
    import's forked workers share the two files without sharing a position).
    """

    def __init__(self, member: IO[bytes] | None, cell_prefix: bytes = b"") -> None:
        # The cells as Excel, XlsxWriter and openpyxl write them, found by a pattern with a
        # literal start (twice as fast as _SHARED_CELL_INDEX, the general one).
        self.usual_cell = re.compile(rb'( t="s"><' + re.escape(cell_prefix) + rb"v>)(\d+)(<)")
        self.count = 0
        self.head = b""
        self.close = b""
        # Strings longer than a cell holds, refused when a cell uses one (naming the cell).
        self.oversize: set[int] = set()
        self._table = self._starts = -1
        if member is None:
            return
        self._table, self._starts = _temporary_fd(), _temporary_fd()
        for fd in (self._table, self._starts):
            weakref.finalize(self, os.close, fd)
        self._scan(member)

    def _scan(self, member: IO[bytes]) -> None:
        """Copy the table to its file and its strings' offsets to theirs, in bounded reads."""
        data = b""
        root = None
        while root is None:
            more = member.read(_STRINGS_READ_BYTES)
            data += more
            root = _STRINGS_ROOT.search(data)
            if root is None and (not more or len(data) > _STRINGS_ROOT_WITHIN):
                raise NotSliceable("no shared strings table at the start of its part")
        assert root is not None
        prefix = root[1]
        self.head = data[: root.end()]
        self.close = b"</" + prefix + b"sst>"
        literal = b"<" + prefix + b"si"
        item = re.compile(re.escape(literal) + rb"[\s>/]")
        # A string's text may hold "<si>" only inside a CDATA section or a comment; Excel never
        # writes either there, and a table that has them is read whole by calamine instead.
        # What a read leaves unscanned at its end, for a match across two reads:
        carry_bytes = max(len(literal), len(b"<![CDATA[") - 1)
        written = 0  # the table file's length; `data` starts there
        starts = array("Q")
        scanned_from = root.end()
        previous = -1
        while data:
            if b"<![CDATA[" in data or b"<!--" in data:
                raise NotSliceable("CDATA or a comment in the shared strings")
            for found in item.finditer(data, scanned_from):
                start = written + found.start()
                if previous >= 0 and start - previous > MAX_SHARED_STRING_BYTES:
                    self.oversize.add(self.count + len(starts) - 1)
                starts.append(start)
                previous = start
            if len(starts) >= 1 << 16:
                _write_all(self._starts, starts.tobytes())
                self.count += len(starts)
                starts = array("Q")
            keep = min(carry_bytes, len(data))
            _write_all(self._table, memoryview(data)[: len(data) - keep])
            written += len(data) - keep
            more = member.read(_STRINGS_READ_BYTES)
            if not more:
                _write_all(self._table, data[len(data) - keep :])
                written += keep
                break
            data = data[len(data) - keep :] + more
            # Matches that ended within the last read started before this.
            scanned_from = max(0, keep - len(literal))
        tail_start = max(0, written - _READ_BYTES)
        tail = os.pread(self._table, written - tail_start, tail_start)
        close = tail.rfind(self.close)
        end = tail_start + close if close >= 0 else written
        if previous >= 0 and end - previous > MAX_SHARED_STRING_BYTES:
            self.oversize.add(self.count + len(starts) - 1)
        starts.append(end)
        _write_all(self._starts, starts.tobytes())
        self.count += len(starts) - 1

    def subset_for(self, sheet_xml: bytes) -> tuple[bytes, bytes]:
        """The slice with its shared-string cells renumbered, and its table (b"": none)."""
        if not self.count:  # no table: strings are inline, nothing to renumber
            return sheet_xml, b""
        # split() puts each match's three groups between the pieces around it: every fourth
        # item from the third on is an index, renumbered in place.
        pieces = self.usual_cell.split(sheet_xml)
        if (len(pieces) - 1) // 4 != sheet_xml.count(b't="s"') or b"t='s'" in sheet_xml:
            # Some shared-string cell is written otherwise (attributes in another order,
            # spaces around the index...), or a text holds t="s".
            pieces = _SHARED_CELL_INDEX.split(sheet_xml)
        indexes = pieces[2::4]
        if not indexes:
            return sheet_xml, b""
        number_of = {text: int(text) for text in set(indexes)}  # "05" and "5" are one string
        used = sorted(set(number_of.values()))
        if used[-1] >= self.count:
            raise UnreadableSheet(
                "unreadable",
                f"shared string {used[-1]} does not exist ({self.count} in the table)",
            )
        if self.oversize and not self.oversize.isdisjoint(used):
            raise _string_too_long(sheet_xml, self.oversize)
        new_of = {old: b"%d" % new for new, old in enumerate(used)}
        renumbered = {text: new_of[number] for text, number in number_of.items()}
        pieces[2::4] = map(renumbered.__getitem__, indexes)
        return b"".join(pieces), b"".join([self.head, *self._strings(used), self.close])

    def _strings(self, used: list[int]) -> Iterator[bytes]:
        """The XML of the strings numbered `used` (strictly ascending), read in runs: a slice's
        new strings are numbered in a row, as the rows first used them."""
        spans: list[tuple[int, int]] = []
        for run in _runs(used, _RUN_GAP):
            first = run[0]
            offsets = array("Q")
            offsets.frombytes(os.pread(self._starts, 8 * (run[-1] - first + 2), 8 * first))
            if len(run) == len(offsets) - 1:  # every string from the first to the last
                spans.append((offsets[0], offsets[-1]))
            else:
                spans.extend((offsets[n - first], offsets[n - first + 1]) for n in run)
        if sum(end - start for start, end in spans) > MAX_SLICE_STRINGS_BYTES:
            raise UnreadableSheet(
                "strings_too_large",
                f"the strings of rows in a slice take more than {MAX_SLICE_STRINGS_BYTES} bytes",
            )
        group: list[tuple[int, int]] = []
        for span in spans:
            if group and span[0] - group[-1][1] > _READ_GAP_BYTES:
                yield from self._read(group)
                group = []
            group.append(span)
        if group:
            yield from self._read(group)

    def _read(self, spans: list[tuple[int, int]]) -> Iterator[bytes]:
        """The strings at `spans`, close to each other in the file, in one read."""
        first = spans[0][0]
        data = os.pread(self._table, spans[-1][1] - first, first)
        return (data[start - first : end - first] for start, end in spans)


def _runs(numbers: list[int], gap: int) -> Iterator[list[int]]:
    """Ascending `numbers` in runs where each is at most `gap` past the one before."""
    run: list[int] = []
    for number in numbers:
        if run and number - run[-1] > gap:
            yield run
            run = []
        run.append(number)
    if run:
        yield run


def _temporary_fd() -> int:
    """A file descriptor of a temporary file that has no name (gone when it is closed)."""
    with tempfile.TemporaryFile() as handle:
        return os.dup(handle.fileno())


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _string_too_long(sheet_xml: bytes, oversize: set[int]) -> UnreadableSheet:
    """The refusal naming the first cell of the slice that uses a string longer than a cell
    holds."""
    for found in _SHARED_CELL_INDEX.finditer(sheet_xml):
        if int(found[2]) in oversize:
            reference = _CELL_REFERENCE.search(found[1])
            row, column = (int(reference[2]), _column_number(reference[1])) if reference else (0, 0)
            return UnreadableSheet(
                "cell_too_large",
                "a shared string longer than a cell holds",
                row=row,
                column=column,
                limit=MAX_SHARED_STRING_BYTES,
            )
    return UnreadableSheet("strings_too_large", "a shared string longer than a cell holds")


def _row_number_at(xml: bytes, position: int, row_start: bytes) -> int:
    """The number of the row that holds `position` (0 when its row has no number)."""
    start = xml.rfind(row_start, 0, position + len(row_start))
    found = _ROW_NUMBER.match(xml, start) if start >= 0 else None
    return int(found[1]) if found else 0


def _row_too_large(xml: bytes, position: int, row_start: bytes) -> UnreadableSheet:
    return UnreadableSheet(
        "row_too_large",
        "a row past the bound",
        row=_row_number_at(xml, position, row_start),
    )


def check_whole_sheet(archive: zipfile.ZipFile) -> None:
    """A worksheet calamine reads whole (one the slicer cannot cut), checked as it is streamed:
    calamine holds every cell from the first to the last used row and column, so the cells'
    references (or, without them, the rows and their cells) must stay within MAX_SHEET_CELLS
    and MAX_COLUMNS."""
    _name, part = first_sheet(archive)
    last_row = last_column = rows = widest = in_row = 0
    carry = b""
    with archive.open(part) as member:
        while data := member.read(_READ_BYTES):
            data = carry + data
            cut = data.rfind(b">") + 1
            text, carry = data[:cut], data[cut:]
            if len(carry) > MAX_ROW_BYTES:
                raise UnreadableSheet("row_too_large", "no tag ends", row=rows + 1)
            for letters, number in _CELL_REFERENCE.findall(text):
                last_column = max(last_column, _column_number(letters))
                last_row = max(last_row, int(number))
            at = 0
            for end in _ANY_ROW_END.finditer(text):
                in_row += len(_ANY_CELL_START.findall(text, at, end.start()))
                widest, in_row, rows, at = max(widest, in_row), 0, rows + 1, end.end()
            in_row += len(_ANY_CELL_START.findall(text, at))
            if max(widest, in_row) > MAX_COLUMNS:
                raise UnreadableSheet("too_many_columns", "cells in a row", row=rows + 1)
    if last_column > MAX_COLUMNS:
        raise UnreadableSheet("too_many_columns", "a cell past the last column", row=last_row)
    span = max(last_row, rows) * max(last_column, widest, 1)
    if span > MAX_SHEET_CELLS:
        raise UnreadableSheet("sheet_too_large", f"{span} cells", span)


def _column_number(letters: bytes) -> int:
    """A column's number from its letters (A: 1, AA: 27)."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number
