"""The dashboard: the numbers a bureau (or a school) checks every morning for an area on a date,
the week's movements, and the tables by unit, grade and kind of school."""

from __future__ import annotations

import datetime
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from xueji.core import codes
from xueji.schools.models import SchoolKind
from xueji.stats import dates, definitions, sql
from xueji.stats.selectors.common import (
    SEXES,
    exit_kind,
    grade_name,
    local_today,
    one_way_table,
    unit_corner,
)
from xueji.stats.selectors.dimensions import DIMENSIONS
from xueji.stats.selectors.targeting import Target, stats_target
from xueji.stats.tables import Cell, Cube, Table
from xueji.stats.targets import DIVISION_LEVELS, TargetSpec


@dataclass
class Figure:
    """One number of the dashboard, with what it means."""

    key: str
    label: str
    cell: Cell
    definition: str


@dataclass
class Dashboard:
    target: Target
    on: datetime.date
    figures: list[Figure]
    movement: list[Figure]
    units: Table | None
    grades: Table
    kinds: Table | None
    since: datetime.date


def dashboard_report(
    user: Any, spec: TargetSpec | None, on: datetime.date | None = None
) -> Dashboard:
    """The numbers a bureau (or a school) checks every morning, for an area on a date."""
    target = stats_target(user, spec)
    on = dates.checked(on, "date") or local_today()
    unit_level = target.unit_level
    unit_key = unit_level if unit_level in sql.KEYS else None
    keys = [*([unit_key] if unit_key else []), "grade", "sex"]
    rows = sql.on_roll(on, target.area, target.scope, keys)
    unit_values = [u.key for u in target.units] if unit_key else []
    cube = Cube.from_rows(keys, rows, [*([unit_values] if unit_key else []), None, SEXES])
    shown = target.shown(cube)

    totals = Cube.from_rows(["sex"], [(r[-2], r[-1]) for r in rows], [SEXES])
    totals_shown = target.shown(totals)
    figures = [
        Figure("on_roll", _("Students on roll"), totals_shown.cell(), definitions.on_roll()),
        Figure("boys", _("Boys"), totals_shown.cell(sex=SEXES[0]), definitions.on_roll()),
        Figure("girls", _("Girls"), totals_shown.cell(sex=SEXES[1]), definitions.on_roll()),
    ]
    flag_keys = ["left_behind", "migrant_child", "boarding", "disability", "school_kind"]
    flag_rows = sql.on_roll(on, target.area, target.scope, flag_keys)
    flags = {
        "left_behind": (
            _("Left-behind children"),
            lambda v: v != codes.LeftBehind.NO.value,
            definitions.left_behind(),
        ),
        "migrant_child": (
            _("Children of migrant workers"),
            lambda v: v == "1",
            definitions.migrant_child(),
        ),
        "boarding": (
            _("Boarders"),
            lambda v: v == codes.AttendanceMode.BOARDING.value,
            definitions.boarding(),
        ),
        "disability": (
            _("Children with a disability"),
            lambda v: v != codes.DisabilityType.NONE.value,
            definitions.disability(),
        ),
    }
    for index, key in enumerate(flag_keys[:-1]):
        label, test, definition = flags[key]
        flag_cube = Cube.from_rows(
            ["flag"], [(bool(test(str(r[index]))), r[-1]) for r in flag_rows], [[True, False]]
        )
        figures.append(Figure(key, label, target.shown(flag_cube).cell(flag=True), definition))

    since = on - datetime.timedelta(days=6)
    movement = _movement(target, since, on)

    units_table = None
    if unit_key:
        units_table = one_way_table(
            shown,
            unit_key,
            key="units",
            title=_units_title(unit_level),
            definition=definitions.on_roll(),
            corner=unit_corner(unit_level),
            label=target.unit_label,
            keep_empty=unit_level not in ("class", "school"),
        )
        for row in units_table.rows:
            if not row.total:
                row.link = _unit_spec(target, row.key[unit_key])
    grade_table = one_way_table(
        shown,
        "grade",
        key="grades",
        title=_("Students by grade and sex"),
        definition=definitions.on_roll(),
        corner=_("Grade"),
        label=grade_name,
    )
    kinds_table = None
    if target.level in ("nation", *DIVISION_LEVELS):
        kind_cube = Cube.from_rows(
            ["school_kind"], [(r[-2], r[-1]) for r in flag_rows], [list(SchoolKind.values)]
        )
        dimension = DIMENSIONS["school_kind"]
        kinds_table = one_way_table(
            target.shown(kind_cube),
            "school_kind",
            key="kinds",
            title=dimension.title(),
            definition=dimension.definition(),
            corner=dimension.title(),
            label=dimension.label,
        )
    return Dashboard(
        target=target,
        on=on,
        figures=figures,
        movement=movement,
        units=units_table,
        grades=grade_table,
        kinds=kinds_table,
        since=since,
    )


def _unit_spec(target: Target, key: Hashable) -> str:
    for unit in target.units:
        if unit.key == key:
            return unit.spec
    return ""


def _units_title(level: str | None) -> str:
    return {
        "province": _("Students on roll by province"),
        "city": _("Students on roll by city"),
        "county": _("Students on roll by county"),
        "school": _("Students on roll by school"),
        "class": _("Students on roll by class"),
    }.get(level or "", _("Students on roll"))


def _movement(target: Target, start: datetime.date, end: datetime.date) -> list[Figure]:
    """Entrants, transfers in and out and departures from `start` to `end` (by sex, totals)."""
    area = target.movement_area
    figures = []
    entrant_rows = sql.entrants(start, end, target.area, target.scope, ["sex"])
    entrants = target.shown(Cube.from_rows(["sex"], entrant_rows, [SEXES]))
    figures.append(Figure("entrants", _("New entrants"), entrants.cell(), definitions.entrants()))
    if target.level in ("grade", "class"):
        return figures  # moves between schools are a school's figures, not a class's
    transfer_rows = sql.transfers(start, end, area, target.scope, [])
    directions = Cube.from_rows(["direction"], transfer_rows, [["in", "out", "within"]])
    for direction, label in (("in", _("Transfers in")), ("out", _("Transfers out"))):
        cube = Cube.from_rows(
            ["direction"], [(direction, directions.get(direction=direction))], [[direction]]
        )
        figures.append(
            Figure(
                f"transfers_{direction}",
                label,
                target.shown(cube).cell(),
                definitions.transfers(),
            )
        )
    if target.level in ("nation", *DIVISION_LEVELS, "school"):
        exit_rows = sql.exits(start, end, area, target.scope, [])
        left = Cube.from_rows(
            ["kind"],
            [(exit_kind(state), n) for state, dated, n in exit_rows if dated],
            [["graduated", "dropped_out", "other"]],
        )
        left_shown = target.shown(left)
        figures.append(
            Figure(
                "dropouts",
                _("Dropouts"),
                left_shown.cell(kind="dropped_out"),
                definitions.dropouts(),
            )
        )
    return figures
