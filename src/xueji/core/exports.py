"""Exports of tables (CSV and XLSX): masked by default, safe to open in a spreadsheet.

- Formula injection: a text cell beginning with = + - @ (or their full-width forms), a tab, a
  carriage return or NUL could be taken for a formula by a spreadsheet program; it gets a
  leading apostrophe, which makes it plain text. Numbers stay numbers.
- Masking: columns declared sensitive (ID numbers, student numbers) are masked, and so is any
  resident ID number found in any other text cell, unless the caller asks to reveal them and
  holds the reveal permission (student.reveal_id); revealing is recorded.
- Every export is an audit entry: who exported which table, how many rows, masked or not.

Use `export_table` from views and API endpoints; `to_csv` / `to_xlsx` are its parts.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from django.db import transaction

from xueji.core.idnumbers import mask_id_number, mask_student_number

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0", "＝", "＋", "－", "＠")

# 18-character resident ID numbers, alone or inside a G/J/L student number.
_IDENTIFIER = re.compile(r"(?<![0-9A-Za-z])([GJLgjl]?)(\d{17}[\dXx])(?![0-9A-Za-z])")

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(text: str) -> str:
    """Text that a spreadsheet shows as text and never evaluates."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def mask_identifiers(text: str) -> str:
    """Any resident ID number in the text masked (110105********002X), also in student numbers."""
    return _IDENTIFIER.sub(lambda m: m[1] + mask_id_number(m[2]), text)


@dataclass(frozen=True)
class Column:
    """One column: the row's key or attribute, its header, and for a sensitive column the mask
    applied unless revealed (MASK_ID_NUMBER, MASK_STUDENT_NUMBER, or your own)."""

    key: str
    header: str
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


def _cell(value: Any, column: Column | None, reveal: bool) -> Any:
    """A cell's value: numbers as numbers, everything else as safe, masked text."""
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, int | float | decimal.Decimal):
        return value
    if value is None:
        return ""
    dated = isinstance(value, datetime.datetime | datetime.date)
    text = value.isoformat() if dated else str(value)
    if not reveal:
        text = column.mask(text) if column is not None and column.mask else mask_identifiers(text)
    return neutralise(text)


def table_cells(
    columns: list[Column], rows: Iterable[Any], *, reveal: bool = False
) -> Iterator[list[Any]]:
    """The header line, then one line of cells per row."""
    yield [_cell(str(column.header), None, True) for column in columns]
    for row in rows:
        yield [_cell(_raw(row, column.key), column, reveal) for column in columns]


def to_csv(columns: list[Column], rows: Iterable[Any], *, reveal: bool = False) -> bytes:
    """UTF-8 with a byte order mark, so that spreadsheet programs read the Chinese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(table_cells(columns, rows, reveal=reveal))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(
    columns: list[Column], rows: Iterable[Any], *, reveal: bool = False, sheet: str = "Sheet1"
) -> bytes:
    """One worksheet; text is always written as text (never as a formula or a link)."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    worksheet = workbook.add_worksheet(_sheet_name(sheet))
    bold = workbook.add_format({"bold": True})
    for r, line in enumerate(table_cells(columns, rows, reveal=reveal)):
        for c, value in enumerate(line):
            if isinstance(value, int | float | decimal.Decimal):
                worksheet.write_number(r, c, float(value))
            else:
                worksheet.write_string(r, c, value, bold if r == 0 else None)
    workbook.close()
    return output.getvalue()


def _sheet_name(title: str) -> str:
    """At most 31 characters, none of []:*?/\\ (what Excel allows)."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return cleaned[:31] or "Sheet1"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    rows: int


def export_table(
    *,
    actor: Any,
    name: str,
    columns: list[Column],
    rows: Iterable[Any],
    fmt: str,
    reveal: bool = False,
) -> ExportFile:
    """Export rows the caller has already selected within their scope, as `fmt` ("csv" or
    "xlsx"). Needs the export permission, and the reveal permission to unmask; recorded in
    the audit trail in the same transaction."""
    from xueji.access.policy import Action
    from xueji.access.scope import require
    from xueji.audit.services import audit_record

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    require(actor, Action.EXPORT)
    if reveal:
        require(actor, Action.STUDENT_REVEAL_ID)
    counted = list(rows)
    content = (
        to_csv(columns, counted, reveal=reveal)
        if fmt == "csv"
        else to_xlsx(columns, counted, reveal=reveal, sheet=name)
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="export",
            detail={
                "table": name,
                "format": fmt,
                "rows": len(counted),
                "columns": [column.key for column in columns],
                "revealed": reveal,
            },
        )
    safe_name = re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).strip("_") or "export"
    return ExportFile(
        filename=f"{safe_name}.{fmt}", content_type=FORMATS[fmt], content=content, rows=len(counted)
    )
