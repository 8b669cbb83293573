"""A statistics table as CSV or XLSX: its lines laid out here, written by xueji.core.exports
(one implementation of formula-injection safety, masking and streaming) and sent, audited, by
xueji.exports.files.

Lines: the title, what the table covers (area, date or period, dimensions: one "label, value"
line each, then a blank line), the header, the rows, then the definition and the notes. Counts
are numbers; hidden counts are their marks ("<5", "×"). The file (and its sheet) is named after
what it covers: 福田区-2025-12-01-年级×年龄×性别.xlsx.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from xueji.core.exports import csv_chunks, neutralise, safe_cell, write_xlsx
from xueji.exports.files import lines_response
from xueji.schools.models import SchoolKind
from xueji.stats.definitions import suppression
from xueji.stats.policy import small_cell_threshold
from xueji.stats.tables import Table

__all__ = [
    "Coverage",
    "Period",
    "as_of",
    "coverage",
    "neutralise",
    "period",
    "response",
    "rows_of",
    "school_year",
    "to_csv",
    "to_xlsx",
]

WIDTHS = {0: 28}
# Between the dimensions of a table, in its notes and its file name.
TIMES = "×"


@dataclass(frozen=True)
class Coverage:
    """What an exported table covers: the area, the date or period, the dimensions; and the
    lines saying so at the top of the file."""

    area: str
    period: str
    dimensions: list[str]
    lines: list[tuple[str, str]]
    # What part of the area's children a table of several alike covers: the kind of school of
    # each of the annual statistics' grade × age × sex tables (小学, 初级中学, …).
    part: str = ""

    @property
    def name(self) -> str:
        """福田区-2025-12-01-年级×年龄×性别; 福田区-2026-2027-小学-年级×年龄×性别"""
        return "-".join(
            part
            for part in (self.area, self.period, self.part, TIMES.join(self.dimensions))
            if part
        )


def _dimensions(table: Table) -> list[str]:
    """The table's dimensions: what its rows and columns count children by."""
    by_sex = _("Boys") in [str(column) for column in table.columns]
    if table.key == "grade-age-sex" or (
        table.key.startswith("annual-") and table.key not in ("annual-flows", "annual-cohorts")
    ):
        return [_("Grade"), _("Age"), _("Sex")]
    if table.key == "mobility-matrix":
        return [_("Place of origin"), _("Place of destination")]
    return [str(table.corner), *([_("Sex")] if by_sex else [])]


def _school_kind(table: Table) -> str:
    """The kind of school an annual table of one kind covers ("annual-primary": 小学), or ""."""
    if not table.key.startswith("annual-"):
        return ""
    kind = table.key.removeprefix("annual-")
    return str(SchoolKind(kind).label) if kind in SchoolKind.values else ""


@dataclass(frozen=True)
class Period:
    """The time a report covers: its part of the file name, and the lines saying it."""

    name: str
    lines: list[tuple[str, str]]


def as_of(on: datetime.date) -> Period:
    """A head count on a date."""
    return Period(on.isoformat(), [(_("As of"), on.isoformat())])


def school_year(
    start_year: int, census: datetime.date, start: datetime.date, end: datetime.date
) -> Period:
    """A school year: its census date, and the period its movements are counted over."""
    year = f"{start_year}-{start_year + 1}"
    return Period(
        year,
        [
            (_("School year"), year),
            (_("Census date"), census.isoformat()),
            (_("Period"), f"{start.isoformat()} – {end.isoformat()}"),
        ],
    )


def period(start: datetime.date, end: datetime.date) -> Period:
    """Movements over a period."""
    return Period(
        f"{start.isoformat()}–{end.isoformat()}",
        [(_("Period"), f"{start.isoformat()} – {end.isoformat()}")],
    )


def coverage(area: str, table: Table, covered: Period) -> Coverage:
    """What `table` of a report about `area` over `covered` covers."""
    dimensions = _dimensions(table)
    lines: list[tuple[str, str]] = [(_("Area"), area)]
    part = _school_kind(table)
    if part:
        # Six tables of one school year share area, year and dimensions: without the kind,
        # their six files would be named alike (the browser numbering them 1 to 5).
        lines.append((_("Kind of school"), part))
    lines.extend(covered.lines)
    lines.append((_("Dimensions"), TIMES.join(dimensions)))
    return Coverage(area=area, period=covered.name, dimensions=dimensions, lines=lines, part=part)


def rows_of(
    table: Table, note: str = "", heading: Sequence[tuple[str, str]] = ()
) -> list[list[Any]]:
    """The table as lines of safe cells: title, the `heading` lines (label, value) and a blank
    line when there are any, header, rows (with a column of codes when its rows have codes),
    then its definition and notes."""
    lines: list[list[Any]] = [[str(table.title)]]
    if heading:
        lines.extend([str(label), str(value)] for label, value in heading)
        lines.append([])
    # Rows about something with a code (a division, a school) carry it beside the name.
    coded = any(row.code for row in table.rows)
    lines.append([str(table.corner), *([_("Code")] if coded else []), *map(str, table.columns)])
    for row in table.rows:
        lines.append(
            [
                str(row.label),
                *([row.code] if coded else []),
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


def _bold(heading: Sequence[tuple[str, str]] = ()) -> Callable[[int, int], bool]:
    """The title, the header and the first column in bold."""
    header = len(heading) + 2 if heading else 1
    return lambda r, c: r in (0, header) or c == 0


def to_csv(table: Table, note: str = "", heading: Sequence[tuple[str, str]] = ()) -> bytes:
    return b"".join(csv_chunks(rows_of(table, note, heading)))


def to_xlsx(
    table: Table, note: str = "", heading: Sequence[tuple[str, str]] = (), sheet: str = ""
) -> bytes:
    output = io.BytesIO()
    write_xlsx(
        output,
        rows_of(table, note, heading),
        sheet=sheet or str(table.title),
        bold=_bold(heading),
        widths=WIDTHS,
    )
    return output.getvalue()


def response(
    *,
    actor: Any,
    page: str,
    table: Table,
    fmt: str,
    note: str = "",
    covered: Coverage | None = None,
) -> Any:
    """The table as a download, audited like every export; with what it covers, the file says
    (and is named after) the area, the date and the dimensions."""
    heading = covered.lines if covered is not None else ()
    name = covered.name if covered is not None else f"{page}-{table.key}"
    period = covered.period if covered is not None else ""
    return lines_response(
        actor=actor,
        name=name,
        lines=rows_of(table, note, heading),
        fmt=fmt,
        rows=len(table.rows),
        detail={"page": page, "key": table.key, "suppressed": table.suppressed},
        bold=_bold(heading),
        widths=WIDTHS,
        fallback="-".join(part for part in (page, table.key, period) if part),
    )
