"""CSV and XLSX of a statistics table, safe to open in a spreadsheet.

A cell whose text begins with = + - @, a tab, a carriage return or NUL could be taken for a
formula by a spreadsheet (formula injection); such text gets a leading apostrophe, which makes
it plain text. Counts are written as numbers; hidden counts as their marks ("<5", "×").
"""

from __future__ import annotations

import csv
import io
from typing import Any

import xlsxwriter

from xueji.stats.definitions import suppression
from xueji.stats.policy import small_cell_threshold
from xueji.stats.tables import Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def neutralise(text: str) -> str:
    """Text that a spreadsheet will show as text, never evaluate."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return neutralise(str(value or ""))
    if isinstance(value, int):
        return value
    return neutralise(str(value))


def rows_of(table: Table, note: str = "") -> list[list[Any]]:
    """The table as lines of cells: title, header, rows, then its definition and notes."""
    lines: list[list[Any]] = [[str(table.title)], [str(table.corner), *map(str, table.columns)]]
    for row in table.rows:
        lines.append(
            [
                str(row.label),
                *[cell.value if cell.value is not None else cell.display for cell in row.cells],
            ]
        )
    lines.append([])
    lines.append([str(table.definition)])
    if note:
        lines.append([note])
    if table.suppressed:
        lines.append([suppression(small_cell_threshold())])
    return [[_cell(value) for value in line] for line in lines]


def to_csv(table: Table, note: str = "") -> bytes:
    """UTF-8 with a byte order mark, so that spreadsheet programs read the Chinese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows_of(table, note))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Table, note: str = "") -> bytes:
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = workbook.add_worksheet(_sheet_name(str(table.title)))
    bold = workbook.add_format({"bold": True})
    for r, line in enumerate(rows_of(table, note)):
        for c, value in enumerate(line):
            style = bold if r <= 1 or c == 0 else None
            if isinstance(value, int):
                sheet.write_number(r, c, value, style)
            else:
                sheet.write_string(r, c, value, style)
    sheet.set_column(0, 0, 28)
    workbook.close()
    return output.getvalue()


def _sheet_name(title: str) -> str:
    """At most 31 characters, none of []:*?/\\ (what Excel allows)."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return cleaned[:31] or "Sheet1"
