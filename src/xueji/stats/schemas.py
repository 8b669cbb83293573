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
from ninja import Schema
from pydantic import Field

from xueji.core.errors import ServiceError
from xueji.stats.definitions import suppression
from xueji.stats.policy import small_cell_threshold
from xueji.stats.selectors import Target
from xueji.stats.tables import Cell, Table
from xueji.stats.targets import SCOPE_PATTERN, BadTarget, TargetSpec

# The `scope` query parameter: empty for the caller's own area, or one of the forms the
# OpenAPI document lists as its pattern.
Scope = Annotated[str, Field(pattern=SCOPE_PATTERN.replace("^(", "^(|", 1))]


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
