"""Head counts on a date: by grade, age and sex (the table a class teacher counted by hand), and
by one dimension at a time (ethnicity, 户口性质, 留守, 随迁, disability, boarding, school kind)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from xueji.core.errors import NotFound
from xueji.stats import dates, sql
from xueji.stats.selectors.common import SEXES, age_table, local_today, one_way_table
from xueji.stats.selectors.dimensions import DIMENSIONS
from xueji.stats.selectors.targeting import Target, stats_target
from xueji.stats.tables import Cube, Table
from xueji.stats.targets import TargetSpec


@dataclass
class AgeReport:
    target: Target
    on: datetime.date
    table: Table
    cube: Cube


def age_report(user: Any, spec: TargetSpec | None, on: datetime.date | None = None) -> AgeReport:
    """Children counted on a date by grade, age in completed years and sex."""
    target = stats_target(user, spec)
    on = dates.checked(on, "date") or local_today()
    rows = sql.on_roll(on, target.area, target.scope, ["grade", "age", "sex"])
    cube = Cube.from_rows(["grade", "age", "sex"], rows, [None, None, SEXES])
    table = age_table(
        target.shown(cube), key="grade-age-sex", title=_("Students by grade, age and sex")
    )
    return AgeReport(target, on, table, cube)


# ---- one dimension at a time -------------------------------------------------------------------


@dataclass
class BreakdownReport:
    target: Target
    on: datetime.date
    tables: list[Table]


def breakdown_report(
    user: Any,
    spec: TargetSpec | None,
    on: datetime.date | None = None,
    dimensions: Sequence[str] | None = None,
) -> BreakdownReport:
    """Children counted on a date by each dimension (ethnicity, 户口性质, 留守, 随迁, disability,
    boarding, school kind), each by sex."""
    target = stats_target(user, spec)
    on = dates.checked(on, "date") or local_today()
    chosen = list(dimensions or DIMENSIONS)
    unknown = [d for d in chosen if d not in DIMENSIONS]
    if unknown:
        raise NotFound("not_found", _("There is no such table."))
    # One pass over the placements grouped by every dimension at once; each table is then the
    # margin of those groups over the other dimensions.
    rows = sql.on_roll(on, target.area, target.scope, [*chosen, "sex"])
    tables = []
    for index, key in enumerate(chosen):
        dimension = DIMENSIONS[key]
        cube = Cube.from_rows(
            [key, "sex"],
            [(row[index], row[-2], row[-1]) for row in rows],
            [dimension.values() or None, SEXES],
        )
        tables.append(
            one_way_table(
                target.shown(cube),
                key,
                key=key,
                title=dimension.title(),
                definition=dimension.definition(),
                corner=dimension.title(),
                label=dimension.label,
                keep_empty=key in ("migrant_child", "boarding", "left_behind"),
            )
        )
    return BreakdownReport(target, on, tables)
