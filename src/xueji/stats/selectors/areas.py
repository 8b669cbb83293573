"""The drill-down (逐级汇总): the areas one level down from an area — the provinces of the nation,
the cities of a province, the counties of a city, the schools of a county, the classes of a
school — each with its schools open and its students on roll by sex on a date, found by name or
code; each row leads one level further down.

Two grouped statements whatever the number of rows: the children on roll by unit and sex (for the
nation, from the head-count rollup) and the schools open by unit; the units themselves come with
the area (xueji.stats.selectors.targeting).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from xueji.access.policy import Action
from xueji.stats import dates, definitions, sql
from xueji.stats.selectors.common import SEXES, local_today, unit_corner
from xueji.stats.selectors.targeting import Target, Unit, stats_target
from xueji.stats.tables import Cell, Cube, Row, Table
from xueji.stats.targets import TargetSpec

# The longest name or code a search is made with.
QUERY_MAX = 64


@dataclass
class AreasReport:
    target: Target
    on: datetime.date
    # The name or code searched for ("" for every unit).
    query: str
    # A row per unit found, then the whole area's total.
    table: Table
    # The units of the area, found or not.
    units: int

    @property
    def found(self) -> list[Row]:
        return [row for row in self.table.rows if not row.total]


def _matches(unit: Unit, query: str) -> bool:
    if not query:
        return True
    return query.casefold() in unit.label.casefold() or unit.code.startswith(query)


def _title(level: str | None) -> str:
    return {
        "province": _("Provinces: schools and students on roll"),
        "city": _("Cities: schools and students on roll"),
        "county": _("Counties: schools and students on roll"),
        "school": _("Schools: students on roll"),
        "class": _("Classes: students on roll"),
    }.get(level or "", _("Students on roll"))


def _count(value: int) -> Cell:
    return Cell(value, f"{value:,}")


def areas_report(
    user: Any, spec: TargetSpec | None, on: datetime.date | None = None, query: str = ""
) -> AreasReport:
    """The units one level down from the area (by default the caller's own), each with its
    schools open and its children on roll by sex on a date (default today), those whose name
    contains `query` or whose code starts with it."""
    target = stats_target(user, spec, Action.SCHOOL_VIEW)
    on = dates.checked(on, "date") or local_today()
    query = query.strip()[:QUERY_MAX]
    unit_level = target.unit_level
    unit_key = unit_level if unit_level in sql.KEYS else None
    keys = [*([unit_key] if unit_key else []), "sex"]
    rows = sql.on_roll(on, target.area, target.scope, keys)
    units = target.units if unit_key else []
    cube = Cube.from_rows(keys, rows, [*([[u.key for u in units]] if unit_key else []), SEXES])
    shown = target.shown(cube)

    schools: dict[Any, int] | None = None
    if unit_level in ("province", "city", "county"):
        schools = dict(sql.schools_open(on, target.area, target.scope, unit_level))
    columns = [_("Students on roll"), _("Boys"), _("Girls")]
    if schools is not None:
        columns.insert(0, _("Schools open"))

    def cells(**where: Any) -> list[Cell]:
        counts = [shown.cell(**where), *(shown.cell(**where, sex=sex) for sex in SEXES)]
        if schools is None:
            return counts
        if unit_key in where:
            school_count = schools.get(where[unit_key], 0)
        else:
            school_count = sum(schools.values())
        return [_count(school_count), *counts]

    table_rows = [
        Row(
            label=unit.label,
            cells=cells(**{str(unit_key): unit.key}),
            key={unit_key: unit.key},
            link=unit.spec,
            code=unit.code,
        )
        for unit in units
        if _matches(unit, query)
        # Every division and school of the area is listed; of a school's classes (of every
        # year), those with children on roll on the date.
        and (unit_level != "class" or cube.get(**{str(unit_key): unit.key}))
    ]
    table_rows.append(
        Row(
            label=_("Total of %(area)s") % {"area": target.label},
            cells=cells(),
            total=True,
        )
    )
    table = Table(
        key="areas",
        title=_title(unit_level),
        definition=definitions.areas(),
        corner=unit_corner(unit_level) or str(target.label),
        columns=[str(column) for column in columns],
        rows=table_rows,
        suppressed=shown.any_hidden,
    )
    return AreasReport(target=target, on=on, query=query, table=table, units=len(units))
