"""Mobility: flows of children between counties, cities or provinces over a period, the net
inflow of each place inside the area, and the 随迁子女 by province of household registration."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from xueji.access.policy import Action
from xueji.core.errors import ServiceError
from xueji.geo.models import Division
from xueji.stats import dates, definitions, sql
from xueji.stats.selectors.common import HIDDEN_DERIVED, local_today, one_way_table, unit_corner
from xueji.stats.selectors.targeting import Target, stats_target
from xueji.stats.tables import Cell, Cube, Row, Table, table_of
from xueji.stats.targets import TargetSpec

# The longest period a mobility report covers at once.
MAX_PERIOD_DAYS = 366 * 3


@dataclass
class MobilityReport:
    target: Target
    start: datetime.date
    end: datetime.date
    level: str
    matrix: Table
    net: Table
    migrants: Table
    links: list[tuple[str, str, int]]
    on: datetime.date


def mobility_report(
    user: Any,
    spec: TargetSpec | None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    level: str | None = None,
) -> MobilityReport:
    """Flows of children between counties (or provinces) over a period, as an origin ×
    destination matrix, the net inflow of each unit inside the area, and the 随迁子女 counted on
    the last day by the province of their household registration. Computed live."""
    target = stats_target(user, spec, Action.SCHOOL_VIEW)
    today = local_today()
    start, end = dates.checked(start, "start"), dates.checked(end, "end")
    end = end or today
    start = start or end - datetime.timedelta(days=29)
    if start > end:
        raise ServiceError("bad_period", _("The period ends before it starts."), field="start")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ServiceError(
            "bad_period", _("Choose a period of at most three years."), field="start"
        )
    level = level or ("province" if target.level == "nation" else "county")
    if level not in ("county", "city", "province"):
        raise ServiceError("bad_level", _("Choose county, city or province."), field="level")

    flow_rows = sql.flows(start, end, target.movement_area, target.scope, level)
    volume: dict[str, int] = {}
    for origin, destination, n in flow_rows:
        volume[origin] = volume.get(origin, 0) + n
        volume[destination] = volume.get(destination, 0) + n
    units = sorted(volume, key=lambda code: (-volume[code], code))
    names = _division_names(units)
    cube = Cube.from_rows(["origin", "destination"], flow_rows, [units, units])
    shown = target.shown(cube)
    origins = [u for u in units if cube.get(origin=u)]
    destinations = [u for u in units if cube.get(destination=u)]
    matrix = table_of(
        shown,
        key="mobility-matrix",
        title=_("Moves between places: origin (rows) × destination (columns)"),
        definition=definitions.flows(),
        corner=_("From \\ To"),
        rows=[(names.get(o, o), {"origin": o}, False, 0) for o in origins]
        + [(_("Arrivals"), {}, True, 0)],
        columns=[(names.get(d, d), {"destination": d}) for d in destinations]
        + [(_("Departures"), {})],
    )
    links = [
        (names.get(o, o), names.get(d, d), n)
        for o in origins
        for d in destinations
        if (n := shown.value(origin=o, destination=d) or 0) > 0
    ]

    inside = [u for u in units if _unit_inside(target, level, u)]
    net_rows = []
    for unit in inside:
        arrived = shown.cell(destination=unit)
        left = shown.cell(origin=unit)
        if arrived.value is None or left.value is None:
            net = Cell(None, HIDDEN_DERIVED, suppressed=True)
        else:
            net = Cell(arrived.value - left.value, f"{arrived.value - left.value:+,}")
        net_rows.append(Row(label=names.get(unit, unit), cells=[arrived, left, net], key=unit))
    net_table = Table(
        key="mobility-net",
        title=_("Net inflow"),
        definition=definitions.net_inflow(),
        corner=unit_corner(level),
        columns=[_("Arrivals"), _("Departures"), _("Net inflow")],
        rows=net_rows,
        suppressed=shown.any_hidden,
    )

    migrant_rows = sql.on_roll(end, target.area, target.scope, ["migrant_child", "origin_province"])
    origin_cube = Cube.from_rows(
        ["origin"],
        [(str(o or ""), n) for flag, o, n in migrant_rows if str(flag) == "1"],
    )
    province_names = _division_names([f"{o}0000" for o in origin_cube.values[0] if o])
    migrants = one_way_table(
        target.shown(origin_cube),
        "origin",
        key="mobility-migrants",
        title=_("Children of migrant workers by province of origin"),
        definition=definitions.migrants_by_origin(),
        corner=_("Province of household registration"),
        label=lambda o: province_names.get(f"{o}0000", str(o)) if o else _("Not recorded"),
    )
    return MobilityReport(
        target=target,
        start=start,
        end=end,
        level=level,
        matrix=matrix,
        net=net_table,
        migrants=migrants,
        links=links,
        on=end,
    )


def _unit_inside(target: Target, level: str, code: str) -> bool:
    if target.level == "nation":
        return True
    if target.division is not None:
        digits = {"province": 2, "city": 4, "county": 6}
        shared = min(digits[level], digits[target.level])
        return (
            digits[level] >= digits[target.level] and code[:shared] == target.division.code[:shared]
        )
    if target.school is not None:
        return code == getattr(target.school, f"{level}_id")
    return False


def _division_names(codes_: Iterable[str]) -> dict[str, str]:
    wanted = [c for c in codes_ if c]
    return dict(Division.objects.filter(code__in=wanted).values_list("code", "name"))
