"""What the statistics API answers: the schemas of its JSON and the shapes of an area, a table
and a cell in it.

Every table is {key, title, definition, corner, columns, rows: [{label, total, cells}],
suppressed}; a cell is a count (an integer) or, when hidden, its mark: "<5" for a small count,
"×" for a figure hidden so that a small one cannot be worked out.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Query, Schema
from pydantic import Field

from xueji.core.api import IsoDate
from xueji.core.errors import ServiceError
from xueji.stats import dates
from xueji.stats.definitions import suppression
from xueji.stats.policy import small_cell_threshold
from xueji.stats.selectors import Target
from xueji.stats.selectors.areas import QUERY_MAX
from xueji.stats.tables import Cell, Table
from xueji.stats.targets import SCOPE_PATTERN, BadTarget, TargetSpec

# The `scope` query parameter: empty for the caller's own area, or one of the forms the
# OpenAPI document lists as its pattern and describes.
SCOPE_DESCRIPTION = (
    "The area the figures are about; empty for your own. One of: `nation`; a division as "
    "`province:440000`, `city:440300` or `county:440304` (GB/T 2260 code); a bare division "
    "code, `440304`, whose level is the division's (a city without counties, such as 东莞 "
    "`441900`, is a county); a school as `school:12` (its id) or by its 10-digit school code "
    "(学校标识码), `4403040001`; a grade of a school as `grade:12:3`; a class as `class:55`. "
    "A division code that names no division, or a school code none of your schools has, "
    "answers 404 `unknown_code` naming the code; an area outside yours answers 404."
)
# A day to count on (a date, or a period's start or end): its bounds, the document says; the
# selectors refuse a day outside them (xueji.stats.dates).
Day = Annotated[IsoDate | None, Query(None, description=dates.BOUNDS)]
# The drill-down's search: part of a name, or the first digits of a code.
AreaSearch = Annotated[
    str,
    Field(max_length=QUERY_MAX),
    Query("", description="Part of an area's or a school's name, or the first digits of its code."),
]
# (Query, last: django-ninja reads a query parameter's description from it, and pydantic
# the pattern from the Field before it.)
Scope = Annotated[
    str,
    Field(pattern=SCOPE_PATTERN.replace("^(", "^(|", 1)),
    Query("", description=SCOPE_DESCRIPTION, example="440304"),
]


class RowOut(Schema):
    label: str
    total: bool
    cells: list[int | str]


class TableOut(Schema):
    key: str
    title: str
    definition: str
    corner: str
    columns: list[str]
    rows: list[RowOut]
    suppressed: bool


class UnitOut(Schema):
    label: str
    scope: str


class TargetOut(Schema):
    scope: str
    label: str
    level: str
    path: list[UnitOut]
    children: list[UnitOut]
    exact: bool
    suppression: str | None


class FigureOut(Schema):
    key: str
    label: str
    value: int | str
    definition: str


class TableReportOut(Schema):
    target: TargetOut
    date: datetime.date
    tables: list[TableOut]


class DashboardOut(TableReportOut):
    figures: list[FigureOut]
    movement_since: datetime.date
    movement: list[FigureOut]


class AnnualOut(Schema):
    target: TargetOut
    year: int
    census_date: datetime.date
    period_start: datetime.date
    period_end: datetime.date
    tables: list[TableOut]
    undated_exits: int | str


class AreaOut(Schema):
    label: str
    code: str
    scope: str


class AreasOut(TableReportOut):
    query: str
    areas: list[AreaOut]


class LinkOut(Schema):
    origin: str
    destination: str
    children: int


class MobilityOut(Schema):
    target: TargetOut
    start: datetime.date
    end: datetime.date
    level: str
    tables: list[TableOut]
    links: list[LinkOut]


def spec_of(scope: str) -> TargetSpec | None:
    """The area a `scope` query parameter names (None for the caller's own)."""
    if not scope:
        return None
    try:
        return TargetSpec.parse(scope)
    except BadTarget:
        raise ServiceError("bad_scope", _("There is no such area."), field="scope") from None


def cell_out(cell: Cell) -> int | str:
    return cell.value if cell.value is not None else cell.display


def table_out(table: Table) -> dict[str, Any]:
    return table.as_json()


def target_out(target: Target) -> dict[str, Any]:
    return {
        "scope": str(target.spec),
        "label": target.label,
        "level": target.level,
        "path": [{"label": label, "scope": spec} for label, spec in target.breadcrumbs],
        "children": [{"label": u.label, "scope": u.spec} for u in target.children],
        "exact": target.exact,
        "suppression": None if target.exact else suppression(small_cell_threshold()),
    }
