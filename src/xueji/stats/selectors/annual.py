"""The annual statistics (事业统计) of a school year: students by kind of school, grade, age and
sex on the census date; entrants, transfers and departures in the year; in-school rate and
attrition of each cohort."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from xueji.access.policy import Action
from xueji.core.errors import ServiceError
from xueji.schools.models import SchoolKind
from xueji.stats import dates, definitions, sql
from xueji.stats.selectors.common import (
    HIDDEN_DERIVED,
    SEXES,
    age_table,
    choice_labels,
    exit_kind,
    local_today,
    sex_columns,
)
from xueji.stats.selectors.targeting import Target, stats_target
from xueji.stats.tables import Cell, Cube, Row, Table
from xueji.stats.targets import TargetSpec

STAGES: tuple[tuple[str, int, int], ...] = (
    ("primary", 1, 6),
    ("junior", 7, 3),
    ("senior", 10, 3),
)


def census_date(start_year: int, today: datetime.date | None = None) -> datetime.date:
    """The annual statistics' reference day: 30 September of the school year (new intake is
    registered by then), or today while that day has not come yet."""
    today = today or local_today()
    return min(datetime.date(start_year, 9, 30), today)


@dataclass
class AnnualReport:
    target: Target
    start_year: int
    census: datetime.date
    period_start: datetime.date
    period_end: datetime.date
    by_kind: list[Table]
    flows: Table
    undated_exits: Cell
    cohorts: Table


def annual_report(
    user: Any, spec: TargetSpec | None, start_year: int | None = None
) -> AnnualReport:
    """事业统计 of a school year: students by kind of school, grade, age and sex on the census
    date; entrants, graduates, transfers and dropouts in the year; in-school rate and attrition
    of each cohort."""
    target = stats_target(user, spec, Action.SCHOOL_VIEW)
    today = local_today()
    current = today.year if today.month >= 9 else today.year - 1
    start_year = current if start_year is None else start_year
    if start_year > current or start_year < dates.FIRST_SCHOOL_YEAR:
        raise ServiceError(
            "bad_year", _("Statistics exist for school years that have begun."), field="year"
        )
    census = census_date(start_year, today)
    period_start = datetime.date(start_year, 9, 1)
    period_end = min(datetime.date(start_year + 1, 8, 31), today)

    keys = ["school_kind", "grade", "age", "sex"]
    rows = sql.on_roll(census, target.area, target.scope, keys)
    cube = Cube.from_rows(keys, rows, [list(SchoolKind.values), None, None, SEXES])
    shown = target.shown(cube)
    by_kind = []
    kind_labels = choice_labels(SchoolKind.choices)
    for kind in cube.values[0]:
        if not cube.get(school_kind=kind):
            continue
        by_kind.append(
            age_table(
                shown,
                key=f"annual-{kind}",
                title=_("%(kind)s: students by grade, age and sex")
                % {"kind": kind_labels[str(kind)]},
                where={"school_kind": kind},
            )
        )

    flows, undated = _annual_flows(target, period_start, period_end)
    cohorts = _cohorts(target, start_year, census)
    return AnnualReport(
        target=target,
        start_year=start_year,
        census=census,
        period_start=period_start,
        period_end=period_end,
        by_kind=by_kind,
        flows=flows,
        undated_exits=undated,
        cohorts=cohorts,
    )


def _annual_flows(target: Target, start: datetime.date, end: datetime.date) -> tuple[Table, Cell]:
    area = target.movement_area
    measures: list[tuple[str, str, str, list[tuple[Any, ...]]]] = []
    measures.append(
        (
            "entrants",
            _("New entrants"),
            definitions.entrants(),
            sql.entrants(start, end, target.area, target.scope, ["sex"]),
        )
    )
    transfer_rows = sql.transfers(start, end, area, target.scope, ["sex"])
    for direction, label in (
        ("in", _("Transfers in")),
        ("out", _("Transfers out")),
        ("within", _("Transfers between schools inside the area")),
    ):
        if direction == "within" and target.level in ("school", "grade", "class"):
            continue
        measures.append(
            (
                f"transfers_{direction}",
                label,
                definitions.transfers(),
                [(sex, n) for d, sex, n in transfer_rows if d == direction],
            )
        )
    exit_rows = sql.exits(start, end, area, target.scope, ["sex"])
    for kind, label, definition in (
        ("graduated", _("Graduates"), definitions.graduates()),
        ("dropped_out", _("Dropouts"), definitions.dropouts()),
        ("other", _("Other departures"), definitions.other_departures()),
    ):
        measures.append(
            (
                kind,
                label,
                definition,
                [
                    (sex, n)
                    for state, dated, sex, n in exit_rows
                    if dated and exit_kind(state) == kind
                ],
            )
        )
    undated_cube = Cube.from_rows(
        ["dated"], [(bool(dated), n) for _s, dated, _x, n in exit_rows], [[False, True]]
    )
    rows = []
    notes = []
    for key, label, definition, measure_rows in measures:
        shown = target.shown(Cube.from_rows(["sex"], measure_rows, [SEXES]))
        rows.append(
            Row(
                label=label,
                cells=[shown.cell(), shown.cell(sex=SEXES[0]), shown.cell(sex=SEXES[1])],
                key=key,
                note=definition,
            )
        )
        notes.append(f"{label}: {definition}")
    table = Table(
        key="annual-flows",
        title=_("Entrants, transfers and departures in the year"),
        definition=" ".join(notes),
        corner=_("Measure"),
        columns=[label for label, _where in sex_columns()],
        rows=rows,
        suppressed=any(c.suppressed for r in rows for c in r.cells),
    )
    return table, target.shown(undated_cube).cell(dated=False)


def _rate(part: Cell, whole: Cell) -> Cell:
    """A share in per cent; hidden when a figure it is made of is hidden."""
    if part.value is None or whole.value is None:
        return Cell(None, HIDDEN_DERIVED, suppressed=True)
    if whole.value == 0:
        return Cell(None, "–")
    return Cell(None, f"{100 * part.value / whole.value:.1f}%")


def _cohorts(target: Target, start_year: int, census: datetime.date) -> Table:
    stage_labels = {
        "primary": _("Primary (grades 1–6)"),
        "junior": _("Junior high (grades 7–9)"),
        "senior": _("Senior high (grades 10–12)"),
    }
    rows = []
    for stage, first_grade, years in STAGES:
        entries = [
            (start_year - offset, census_date(start_year - offset, census), first_grade)
            for offset in range(years)
        ]
        found = sql.cohorts(entries, census, target.area, target.scope)
        for entry_year, _day, _grade in entries:
            outcome = {"in_school": 0, "completed": 0, "attrition": 0, "other": 0}
            for year, state, n in found:
                if year != entry_year:
                    continue
                if state == "":
                    outcome["in_school"] += n
                elif state in sql.GRADUATED_STATES:
                    outcome["completed"] += n
                elif state in sql.ATTRITION_STATES:
                    outcome["attrition"] += n
                else:
                    outcome["other"] += n
            if not any(outcome.values()):
                continue
            cube = Cube.from_rows(
                ["outcome"],
                list(outcome.items()),
                [["in_school", "completed", "attrition", "other"]],
            )
            shown = target.shown(cube)
            whole = shown.cell()
            in_school = shown.cell(outcome="in_school")
            attrition = shown.cell(outcome="attrition")
            cells = [
                whole,
                in_school,
                _rate(in_school, whole),
                shown.cell(outcome="completed"),
                attrition,
                _rate(attrition, whole),
                shown.cell(outcome="other"),
            ]
            rows.append(
                Row(
                    label=_("%(stage)s, entered %(year)s")
                    % {
                        "stage": stage_labels[stage],
                        "year": f"{entry_year}–{entry_year + 1}",
                    },
                    cells=cells,
                    key={"stage": stage, "entry_year": entry_year},
                )
            )
    return Table(
        key="annual-cohorts",
        title=_("In-school rate and attrition per cohort"),
        definition=definitions.cohorts(),
        corner=_("Cohort"),
        columns=[
            _("Entered"),
            _("On roll now"),
            _("In-school rate"),
            _("Completed the stage"),
            _("Left (attrition)"),
            _("Attrition rate"),
            _("Other departures"),
        ],
        rows=rows,
        suppressed=any(c.suppressed for r in rows for c in r.cells),
    )
