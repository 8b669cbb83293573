"""Reading an uploaded sheet as rows of cell values, after xueji.imports.safety passed it.

Spreadsheets (.xlsx, .xls, .ods) are read with python-calamine: formula cells come back as the
value Excel cached when it saved the file, and are never evaluated. CSV is decoded as UTF-8 or
GB18030 (what Chinese offices' Excel writes as "CSV") and read line by line, in constant memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from xueji.imports.safety import CSV, Sniffed, UnsafeFile


@dataclass
class Sheet:
    """The header row and an iterator of (row number as Excel counts it, cells)."""

    name: str
    header: list[Any]
    rows: Iterator[tuple[int, list[Any]]]
    total: int


def open_sheet(path: Path, sniffed: Sniffed) -> Sheet:
    """The first sheet (the data sheet of our templates) of a checked file."""
    if sniffed.kind == CSV:
        return _csv_sheet(path, sniffed.encoding)
    return _calamine_sheet(path)


def _nonblank(cells: list[Any]) -> bool:
    return any(cell not in (None, "") for cell in cells)


def _calamine_sheet(path: Path) -> Sheet:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
        header = list(next(rows, []))
    except (CalamineError, OSError, ValueError) as error:
        raise UnsafeFile(
            "unreadable", _("The file cannot be read: %(error)s") % {"error": error}
        ) from None
    total = max(sheet.height - 1, 0)

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        for index, cells in enumerate(rows, start=2):
            if _nonblank(cells):
                yield index, list(cells)

    return Sheet(name=sheet.name, header=header, rows=numbered(), total=total)


def _csv_sheet(path: Path, encoding: str) -> Sheet:
    with path.open("rb") as counting:
        total = max(sum(1 for _line in counting) - 1, 0)
    handle = io.TextIOWrapper(path.open("rb"), encoding=encoding, newline="")
    reader = csv.reader(handle)
    header = next(reader, [])

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        try:
            for index, cells in enumerate(reader, start=2):
                if _nonblank(cells):
                    yield index, cells
        finally:
            handle.close()

    return Sheet(name=path.stem, header=header, rows=numbered(), total=total)
