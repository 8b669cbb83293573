"""A statistics table as CSV or XLSX: its lines laid out here, written by xueji.core.exports
(one implementation of formula-injection safety, masking, streaming and auditing).

Lines: the title, the header, the rows, then the definition and the notes. Counts are numbers;
hidden counts are their marks ("<5", "×").
"""

from __future__ import annotations

import io
from typing import Any

from xueji.core.exports import csv_chunks, lines_response, neutralise, safe_cell, write_xlsx
from xueji.stats.definitions import suppression
from xueji.stats.policy import small_cell_threshold
from xueji.stats.tables import Table

__all__ = ["neutralise", "response", "rows_of", "to_csv", "to_xlsx"]

WIDTHS = {0: 28}


def _bold(r: int, c: int) -> bool:
    return r <= 1 or c == 0


def rows_of(table: Table, note: str = "") -> list[list[Any]]:
    """The table as lines of safe cells: title, header, rows, then its definition and notes."""
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
    return [[safe_cell(value) for value in line] for line in lines]


def to_csv(table: Table, note: str = "") -> bytes:
    return b"".join(csv_chunks(rows_of(table, note)))


def to_xlsx(table: Table, note: str = "") -> bytes:
    output = io.BytesIO()
    write_xlsx(output, rows_of(table, note), sheet=str(table.title), bold=_bold, widths=WIDTHS)
    return output.getvalue()


def response(*, actor: Any, page: str, table: Table, fmt: str, note: str = "") -> Any:
    """The table as a download, audited like every export."""
    lines = rows_of(table, note)
    return lines_response(
        actor=actor,
        name=f"{page}-{table.key}",
        lines=lines,
        fmt=fmt,
        rows=len(table.rows),
        detail={"page": page, "key": table.key, "suppressed": table.suppressed},
        bold=_bold,
        widths=WIDTHS,
    )
