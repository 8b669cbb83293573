"""API of statistics: the same tables as the pages, with the same suppression.

Every table is {key, title, definition, corner, columns, rows: [{label, total, cells}],
suppressed}; a cell is a count (an integer) or, when hidden, its mark: "<5" for a small count,
"×" for a figure hidden so that a small one cannot be worked out. `scope` names the area
("nation", "province:440000", "city:440300", "county:440304", "school:12", "grade:12:3",
"class:55"); it defaults to the caller's own, and an area outside it answers 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import COMMON_ERRORS, ErrorOut, caller
from xueji.core.errors import ServiceError
from xueji.stats.definitions import suppression
from xueji.stats.policy import small_cell_threshold
from xueji.stats.selectors import (
    DIMENSIONS,
    Target,
    age_report,
    annual_report,
    breakdown_report,
    dashboard_report,
    mobility_report,
    stats_target,
)
from xueji.stats.tables import Cell, Table
from xueji.stats.targets import BadTarget, TargetSpec

router = Router(tags=["statistics"])

RESPONSES: dict[int, Any] = {404: ErrorOut, **COMMON_ERRORS}


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


def _spec(scope: str) -> TargetSpec | None:
    if not scope:
        return None
    try:
        return TargetSpec.parse(scope)
    except BadTarget:
        raise ServiceError("bad_scope", _("There is no such area."), field="scope") from None


def _cell(cell: Cell) -> int | str:
    return cell.value if cell.value is not None else cell.display


def _table(table: Table) -> dict[str, Any]:
    return table.as_json()


def _target(target: Target) -> dict[str, Any]:
    return {
        "scope": str(target.spec),
        "label": target.label,
        "level": target.level,
        "path": [{"label": label, "scope": spec} for label, spec in target.breadcrumbs],
        "children": [{"label": u.label, "scope": u.spec} for u in target.children],
        "exact": target.exact,
        "suppression": None if target.exact else suppression(small_cell_threshold()),
    }


@router.get("/target", response={200: TargetOut, **RESPONSES})
@endpoint_requires(Action.STATS_VIEW)
def target_read(request: HttpRequest, scope: str = "") -> Any:
    """The area, its path from the caller's own, and the areas one level down."""
    return _target(stats_target(caller(request), _spec(scope)))


@router.get("/grade-age-sex", response={200: TableReportOut, **RESPONSES})
@endpoint_requires(Action.STATS_VIEW)
def grade_age_sex(request: HttpRequest, scope: str = "", date: datetime.date | None = None) -> Any:
    """Students on roll on a date (default today) by grade, age in completed years and sex."""
    report = age_report(caller(request), _spec(scope), date)
    return {"target": _target(report.target), "date": report.on, "tables": [_table(report.table)]}


@router.get("/breakdown", response={200: TableReportOut, **RESPONSES})
@endpoint_requires(Action.STATS_VIEW)
def breakdown(
    request: HttpRequest,
    scope: str = "",
    date: datetime.date | None = None,
    dimension: str = "",
) -> Any:
    """Students on roll by one dimension (or all of them): ethnicity, hukou_nature,
    left_behind, migrant_child, disability, boarding, school_kind; each by sex."""
    dimensions = [d for d in dimension.split(",") if d] or None
    if dimensions and any(d not in DIMENSIONS for d in dimensions):
        raise ServiceError(
            "bad_dimension",
            _("Choose among: %(names)s.") % {"names": ", ".join(DIMENSIONS)},
            field="dimension",
        )
    report = breakdown_report(caller(request), _spec(scope), date, dimensions)
    return {
        "target": _target(report.target),
        "date": report.on,
        "tables": [_table(t) for t in report.tables],
    }


@router.get("/dashboard", response={200: DashboardOut, **RESPONSES})
@endpoint_requires(Action.STATS_VIEW)
def dashboard(request: HttpRequest, scope: str = "", date: datetime.date | None = None) -> Any:
    """The morning numbers: on roll, boys, girls, 留守, 随迁, boarders, disability; the week's
    entrants, transfers in and out and dropouts; per-unit, per-grade and per-kind tables."""
    report = dashboard_report(caller(request), _spec(scope), date)
    figure = lambda f: {  # noqa: E731
        "key": f.key,
        "label": f.label,
        "value": _cell(f.cell),
        "definition": f.definition,
    }
    tables = [t for t in (report.units, report.grades, report.kinds) if t is not None]
    return {
        "target": _target(report.target),
        "date": report.on,
        "tables": [_table(t) for t in tables],
        "figures": [figure(f) for f in report.figures],
        "movement_since": report.since,
        "movement": [figure(f) for f in report.movement],
    }


@router.get("/annual", response={200: AnnualOut, **RESPONSES})
@endpoint_requires(Action.SCHOOL_VIEW)
def annual(request: HttpRequest, scope: str = "", year: int | None = None) -> Any:
    """事业统计 of the school year starting in `year` (default the current one)."""
    report = annual_report(caller(request), _spec(scope), year)
    return {
        "target": _target(report.target),
        "year": report.start_year,
        "census_date": report.census,
        "period_start": report.period_start,
        "period_end": report.period_end,
        "tables": [_table(t) for t in (*report.by_kind, report.flows, report.cohorts)],
        "undated_exits": _cell(report.undated_exits),
    }


@router.get("/mobility", response={200: MobilityOut, **RESPONSES})
@endpoint_requires(Action.SCHOOL_VIEW)
def mobility(
    request: HttpRequest,
    scope: str = "",
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    level: str = "",
) -> Any:
    """Moves between counties, cities or provinces from `start` to `end` (default the last 30
    days), computed live: the matrix, net inflow, 随迁子女 by province of origin."""
    report = mobility_report(caller(request), _spec(scope), start, end, level or None)
    return {
        "target": _target(report.target),
        "start": report.start,
        "end": report.end,
        "level": report.level,
        "tables": [_table(t) for t in (report.matrix, report.net, report.migrants)],
        "links": [{"origin": o, "destination": d, "children": n} for o, d, n in report.links],
    }
