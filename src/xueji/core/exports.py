"""Exports of tables (CSV and XLSX): masked by default, safe to open in a spreadsheet, streamed.

The one implementation every export uses (students' rosters and records, statistics tables):
- Formula injection: a text cell beginning with = + - @ (or their full-width forms), a tab, a
  carriage return or NUL could be taken for a formula by a spreadsheet program; it gets a
  leading apostrophe, which makes it plain text. Numbers stay numbers. XLSX text is written as
  text, never as a formula, a link or a number.
- Masking: columns declared sensitive (ID numbers, student numbers) are masked, and so is any
  resident ID number (or run of 15 to 20 digits) found in any other text cell, unless the
  caller asks to reveal them (xueji.exports.files checks the reveal permission, and records it).
- Streaming: CSV goes out line by line (UTF-8 with a byte order mark, so that Excel reads the
  Chinese right) from an iterator; XLSX is written in XlsxWriter's constant-memory mode to a
  temporary file, which is then sent. Memory stays flat for a million rows.

Pure: these build the cells, the lines and the files. What checks the permission and writes the
audit entry before a file goes out (`export_response`, `lines_response`, `export_table`) is
xueji.exports.files.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

import xlsxwriter
from django.utils.functional import Promise

from xueji.core.idnumbers import mask_id_number, mask_student_number

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0", "＝", "＋", "－", "＠")

# Resident ID numbers, alone or inside a G/J/L student number: the 18 characters of a valid
# one, and any run of 15 to 20 digits (the last may be an X), which is an ID number mistyped
# (a digit left out or doubled), an old 15-digit one, or a number that should be kept as private.
_IDENTIFIER = re.compile(r"(?<![0-9A-Za-z])([GJLgjl]?)(\d{14,19}[\dXx])(?![0-9A-Za-z])")
_NUMBER_PREFIXES = "GJLgjl"

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def neutralise(text: str) -> str:
    """Text that a spreadsheet shows as text and never evaluates."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def mask_identifiers(text: str) -> str:
    """Any resident ID number in the text masked (110105********002X), also in student numbers,
    and so is any run of 15 to 20 digits (a mistyped ID number: 110105*******0029)."""
    return _IDENTIFIER.sub(lambda m: m[1] + mask_id_number(m[2]), text)


def mask_document_number(text: str) -> str:
    """A value of an ID number (or student number) column masked whatever its length or form,
    valid or not: the first six and the last four characters of 15 or more are kept (a G/J/L
    student number keeps its letter too: G110105********002X, as mask_student_number gives),
    only the last two of 8 to 14, the last one of 4 to 7, none of a shorter value. Masking an
    already masked value changes nothing."""
    if not text:
        return ""
    prefix = text[0] if len(text) >= 16 and text[0] in _NUMBER_PREFIXES else ""
    body = text[len(prefix) :]
    length = len(body)
    if length >= 15:
        return prefix + body[:6] + "*" * (length - 10) + body[-4:]
    kept = 2 if length >= 8 else 1 if length >= 4 else 0
    return "*" * (length - kept) + body[length - kept :]


@dataclass(frozen=True)
class Column:
    """One column: the row's key or attribute, its header, and for a sensitive column the mask
    applied unless revealed (MASK_ID_NUMBER, MASK_STUDENT_NUMBER, or your own)."""

    key: str
    header: str | Promise  # a lazy translation is written in the language active at export
    mask: Callable[[str | None], str] | None = None


MASK_ID_NUMBER: Callable[[str | None], str] = mask_id_number
MASK_STUDENT_NUMBER: Callable[[str | None], str] = mask_student_number


def _raw(row: Any, key: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(key)
    value = row
    for part in key.split("."):
        value = getattr(value, part, None)
        if value is None:
            break
    return value


def safe_cell(value: Any, mask: Callable[[str], str] | None = mask_identifiers) -> Any:
    """A cell's value: numbers as numbers, everything else as safe text, masked by `mask`
    (None: as it is)."""
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, int | float | decimal.Decimal):
        return value
    if value is None:
        return ""
    dated = isinstance(value, datetime.datetime | datetime.date)
    text = value.isoformat() if dated else str(value)
    if mask is not None:
        text = mask(text)
    return neutralise(text)


def _cell(value: Any, column: Column | None, reveal: bool) -> Any:
    if reveal:
        return safe_cell(value, None)
    if column is not None and column.mask:
        return safe_cell(value, column.mask)  # type: ignore[arg-type]
    return safe_cell(value)


def table_cells(
    columns: list[Column], rows: Iterable[Any], *, reveal: bool = False
) -> Iterator[list[Any]]:
    """The header line, then one line of cells per row."""
    yield [safe_cell(str(column.header), None) for column in columns]
    for row in rows:
        yield [_cell(_raw(row, column.key), column, reveal) for column in columns]


# ---- writers of lines (already safe cells) -----------------------------------------------------


def csv_chunks(lines: Iterable[list[Any]], *, lines_per_chunk: int = 500) -> Iterator[bytes]:
    """CSV in UTF-8 with a byte order mark, a chunk of lines at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield "\ufeff".encode()
    pending = 0
    for line in lines:
        writer.writerow(line)
        pending += 1
        if pending >= lines_per_chunk:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(
    out: IO[bytes] | str,
    lines: Iterable[list[Any]],
    *,
    sheet: str = "Sheet1",
    bold: Callable[[int, int], bool] = lambda r, c: r == 0,
    widths: Mapping[int, float] | None = None,
) -> int:
    """One worksheet written row by row (constant memory); returns the number of lines. Text is
    always written as text (never a formula or a link), numbers as numbers."""
    in_memory = not isinstance(out, str)
    workbook = xlsxwriter.Workbook(
        out, {**XLSX_OPTIONS, "constant_memory": not in_memory, "in_memory": in_memory}
    )
    worksheet = workbook.add_worksheet(_sheet_name(sheet))
    strong = workbook.add_format({"bold": True})
    for column, width in (widths or {}).items():
        worksheet.set_column(column, column, width)
    count = 0
    for r, line in enumerate(lines):
        for c, value in enumerate(line):
            style = strong if bold(r, c) else None
            if isinstance(value, int | float | decimal.Decimal):
                worksheet.write_number(r, c, float(value), style)
            else:
                worksheet.write_string(r, c, value, style)
        count += 1
    workbook.close()
    return count


def to_csv(columns: list[Column], rows: Iterable[Any], *, reveal: bool = False) -> bytes:
    """A small table as CSV bytes."""
    return b"".join(csv_chunks(table_cells(columns, rows, reveal=reveal)))


def to_xlsx(
    columns: list[Column], rows: Iterable[Any], *, reveal: bool = False, sheet: str = "Sheet1"
) -> bytes:
    """A small table as XLSX bytes."""
    output = io.BytesIO()
    write_xlsx(output, table_cells(columns, rows, reveal=reveal), sheet=sheet)
    return output.getvalue()


def _sheet_name(title: str) -> str:
    """At most 31 characters, none of []:*?/\\ (what Excel allows)."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return cleaned[:31] or "Sheet1"


# What no file system (Windows' included) takes in a file name.
_UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def safe_filename(name: str, fmt: str) -> str:
    """A file name keeping the name's Chinese, ×, · and spaces, as a registrar would name the
    file; only the characters no file system takes are replaced."""
    cleaned = _UNSAFE_IN_FILENAME.sub("_", name).strip(" ._") or "export"
    return f"{cleaned}.{fmt}"


def content_disposition(name: str, fmt: str, fallback: str = "") -> str:
    """An attachment named `name` (RFC 5987 filename*, UTF-8), with an ASCII `fallback` for the
    clients that cannot read that ("export" when none is given)."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", fallback).strip("_") or "export"
    return (
        f'attachment; filename="{plain}.{fmt}"; '
        f"filename*=UTF-8''{quote(safe_filename(name, fmt), safe='')}"
    )
