"""Reads of the reporting rounds: who sees which report, the tables of a report (its snapshot,
or the registry's figures before one is taken), the units below with their states and totals,
the breakdown behind a cell, and the changes since the previous report, by child (masked).

The checks that find the wrong class are in xueji.reporting.checks.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import LEVEL_RANK, Action
from xueji.access.scope import Scope, division_in_area, may, school_in_area, scope_of
from xueji.core import codes
from xueji.core.idnumbers import mask_student_number
from xueji.reporting import snapshot
from xueji.reporting.models import (
    Cell,
    ReportRound,
    ReportTable,
    Revision,
    Submission,
    UnitLevel,
    UnitReport,
    UnitState,
)
from xueji.schools.models import SchoolClass, SchoolKind, grade_label
from xueji.stats import sql as stats_sql
from xueji.stats.selectors import DIMENSIONS
from xueji.students.models import (
    ENTRY_REASONS,
    ON_ROLL_STATES,
    Placement,
    PlacementReason,
    Student,
)

# ---- who sees and who acts ---------------------------------------------------------------------


def acts_for(scope: Scope | None, unit: UnitReport) -> bool:
    """Is the scope the unit's own staff (its school, or its division's bureau)?"""
    if scope is None:
        return False
    if unit.level == UnitLevel.SCHOOL:
        return scope.level == ScopeLevel.SCHOOL and scope.school_id == unit.school_id
    if unit.level == UnitLevel.NATION:
        return scope.level == ScopeLevel.NATION
    return scope.level == unit.level and scope.division_code == unit.division_id


def unit_visible(scope: Scope | None, unit: UnitReport) -> bool:
    """A school's report is seen by its school and the bureaus above it; a division's by its
    own bureau and those above."""
    if scope is None:
        return False
    if scope.level == ScopeLevel.NATION:
        return True
    if unit.level == UnitLevel.SCHOOL:
        return school_in_area(scope, unit.school)
    if unit.level == UnitLevel.NATION or scope.level == ScopeLevel.SCHOOL:
        return False
    return LEVEL_RANK[unit.level] <= LEVEL_RANK[scope.level] and division_in_area(
        scope, unit.division_id or ""
    )


def unit_name(unit: UnitReport) -> str:
    if unit.level == UnitLevel.SCHOOL:
        return unit.school.name if unit.school else ""
    if unit.level == UnitLevel.NATION:
        return _("The nation")
    return unit.division.name if unit.division else str(unit.division_id)


def _visible_units_q(scope: Scope) -> Q:
    if scope.level == ScopeLevel.NATION:
        return Q()
    if scope.level == ScopeLevel.SCHOOL:
        return Q(school_id=scope.school_id)
    return Q(division_id=scope.division_code, level=scope.level)


def _rounds_q(scope: Scope) -> Q:
    """Rounds whose area holds the scope's: every national round, and the own province's."""
    if scope.level == ScopeLevel.NATION:
        return Q()
    province = (
        (scope.school_county or "")[:2]
        if scope.level == ScopeLevel.SCHOOL
        else (scope.division_code or "")[:2]
    )
    return Q(level="nation") | Q(division_id=province + "0000")


def period_start(report_round: ReportRound) -> datetime.date:
    """The day after which the round's entrants and leavers are counted: the previous round's
    census date, else the eve of the census date's school year."""
    if report_round.previous_id is not None:
        previous = ReportRound.objects.filter(pk=report_round.previous_id).first()
        if previous is not None:
            return previous.census_date
    census = report_round.census_date
    start_year = census.year if census.month >= 9 else census.year - 1
    return datetime.date(start_year, 8, 31)


@dataclass
class RoundRow:
    round: ReportRound
    unit: UnitReport | None
    area: str


def rounds_visible(user: Any) -> list[RoundRow]:
    """The rounds of the user's area, newest first, each with the user's own report in it."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.REPORT_VIEW):
        return []
    rounds = list(ReportRound.objects.filter(_rounds_q(scope)).select_related("division")[:50])
    own = {
        u.round_id: u
        for u in UnitReport.objects.filter(round__in=rounds)
        .filter(_visible_units_q(scope))
        .select_related("school", "division")
        .order_by("level")
    }
    # The ministry sees a province's round through the province's report.
    tops = {
        u.round_id: u
        for u in UnitReport.objects.filter(round__in=rounds, parent__isnull=True).select_related(
            "division"
        )
    }
    return [
        RoundRow(
            r,
            own.get(r.pk) or (tops.get(r.pk) if scope.level == "nation" else None),
            r.division.name if r.division else _("The nation"),
        )
        for r in rounds
    ]


def unit_get(user: Any, unit_id: int) -> UnitReport | None:
    """A report the user may see (REPORT_VIEW and inside the area), or None."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.REPORT_VIEW):
        return None
    unit = (
        UnitReport.objects.filter(pk=unit_id)
        .select_related(
            "round",
            "round__division",
            "school",
            "division",
            "parent",
            "confirmed_by",
            "prepared_by",
            "returned_by",
            "submission",
            "submission__taken_by",
        )
        .first()
    )
    if unit is None or not unit_visible(scope, unit):
        return None
    return unit


def previous_unit(unit: UnitReport) -> UnitReport | None:
    """The same unit's report in the round's previous round."""
    if unit.round.previous_id is None:
        return None
    found = UnitReport.objects.filter(round_id=unit.round.previous_id, level=unit.level)
    if unit.level == UnitLevel.SCHOOL:
        found = found.filter(school_id=unit.school_id or 0)
    elif unit.level != UnitLevel.NATION:
        found = found.filter(division_id=unit.division_id)
    return found.select_related("submission").first()


# ---- the figures -------------------------------------------------------------------------------

Key = tuple[str, int | None, int | None, str, str]


def figures_of(submission_id: int | None) -> dict[Key, int]:
    """A submission's cells summed over classes: (table, grade, age, sex, category) → count."""
    if submission_id is None:
        return {}
    rows = (
        Cell.objects.filter(submission_id=submission_id)
        .values_list("table", "grade", "age", "sex", "category")
        .annotate(n=Sum("count"))
    )
    return {(t, g, a, s, c): int(n) for t, g, a, s, c, n in rows}


def live_figures(unit: UnitReport) -> dict[Key, int]:
    """A school's figures counted from the registry now (before any snapshot), or a
    division's as the sum of its units' reports in force."""
    report_round = unit.round
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if unit.level == UnitLevel.SCHOOL:
            for table in report_round.tables:
                if table in snapshot.ON_ROLL_TABLES:
                    select, params = snapshot.on_roll_select(
                        table, report_round.census_date, "AND sc.id = %s", [unit.school_id], "0"
                    )
                    cursor.execute(select, params)
                    rows += cursor.fetchall()
                elif table == ReportTable.MOVEMENT:
                    for select, params in snapshot.movement_selects(
                        period_start(report_round),
                        report_round.census_date,
                        "AND {school} = %s",
                        [unit.school_id],
                        "0",
                    ):
                        cursor.execute(select, params)
                        rows += cursor.fetchall()
        else:
            cursor.execute(
                f'SELECT 0, c."table", NULL, c.grade, c.age, c.sex, c.category, SUM(c.count) '
                f"FROM {snapshot.CELL} c JOIN {snapshot.UNIT} u "
                "ON u.submission_id = c.submission_id WHERE u.parent_id = %s "
                'GROUP BY c."table", c.grade, c.age, c.sex, c.category',
                [unit.pk],
            )
            rows = cursor.fetchall()
    found: dict[Key, int] = defaultdict(int)
    for _head, table, _class, grade, age, sex, category, n in rows:
        found[(str(table), grade, age, sex or "", category or "")] += int(n)
    return dict(found)


def total_of(figures: dict[Key, int], table: str = ReportTable.GRADE_AGE_SEX) -> int:
    return sum(n for key, n in figures.items() if key[0] == table)


SEXES = (codes.Sex.MALE.value, codes.Sex.FEMALE.value)


@dataclass
class ShownCell:
    value: int
    query: dict[str, Any]


@dataclass
class ShownRow:
    label: str
    cells: list[ShownCell]
    strong: bool = False
    sub: bool = False


@dataclass
class ShownTable:
    key: str
    title: str
    corner: str
    columns: list[str]
    rows: list[ShownRow]


def category_label(table: str, value: Hashable) -> str:
    if table in DIMENSIONS:
        return DIMENSIONS[table].label(value)
    if table == ReportTable.ANNUAL:
        return str(dict(SchoolKind.choices).get(str(value), value))
    if table == ReportTable.MOVEMENT:
        return movement_label(str(value))
    return str(value)


def movement_label(kind: str) -> str:
    return {
        "entrants": _("New entrants"),
        "transfers_in": _("Transfers in"),
        "transfers_out": _("Transfers out"),
        "graduated": _("Graduates"),
        "dropped_out": _("Dropouts"),
        "other_departures": _("Other departures"),
    }.get(kind, kind)


class _Any:
    """The wildcard of a margin: any value of the dimension."""


ANY = _Any()
_FILTERS = ("grade", "age", "sex", "category")


class Margins(dict[tuple[Any, ...], int]):
    """Every margin of the figures (each dimension kept or summed over), worked out once: a
    table's cells are then looked up, not summed over all the figures each."""

    def __init__(self, figures: dict[Key, int]) -> None:
        super().__init__()
        for (table, *values), n in figures.items():
            for mask in range(16):
                key = (table, *(v if mask & (1 << i) else ANY for i, v in enumerate(values)))
                self[key] = self.get(key, 0) + n


def _sum(figures: Margins, table: str, **where: Any) -> int:
    return figures.get((table, *(where.get(name, ANY) for name in _FILTERS)), 0)


def _sex_cells(figures: Margins, table: str, **where: Any) -> list[ShownCell]:
    return [
        ShownCell(_sum(figures, table, **where), {"table": table, **where}),
        *(
            ShownCell(_sum(figures, table, sex=s, **where), {"table": table, "sex": s, **where})
            for s in SEXES
        ),
    ]


def shown_tables(report_round: ReportRound, counted: dict[Key, int]) -> list[ShownTable]:
    """The round's tables laid out as the national basic statistical tables lay them out."""
    figures = Margins(counted)
    tables: list[ShownTable] = []
    sex_columns = [_("Total"), _("Boys"), _("Girls")]
    for table in report_round.tables:
        title = str(ReportTable(table).label)
        keys = [k for k in counted if k[0] == table]
        if table in (ReportTable.GRADE_AGE_SEX, ReportTable.ANNUAL):
            ages = sorted({k[2] for k in keys if k[2] is not None})
            groups = sorted({(k[4], k[1]) for k in keys if k[1] is not None})
            rows: list[ShownRow] = []
            for category, grade in groups:
                where: dict[str, Any] = {"grade": grade}
                if table == ReportTable.ANNUAL:
                    where["category"] = category
                label = grade_label(int(grade))
                if table == ReportTable.ANNUAL:
                    label = f"{category_label(table, category)} {label}"
                for sex_label, sex in (
                    (label, None),
                    (_("Boys"), SEXES[0]),
                    (_("Girls"), SEXES[1]),
                ):
                    w: dict[str, Any] = dict(where) if sex is None else {**where, "sex": sex}
                    rows.append(
                        ShownRow(
                            sex_label,
                            [
                                ShownCell(_sum(figures, table, **w), {"table": table, **w}),
                                *(
                                    ShownCell(
                                        _sum(figures, table, age=a, **w),
                                        {"table": table, "age": a, **w},
                                    )
                                    for a in ages
                                ),
                            ],
                            sub=sex is not None,
                        )
                    )
            for sex_label, sex in (
                (_("All grades"), None),
                (_("Boys"), SEXES[0]),
                (_("Girls"), SEXES[1]),
            ):
                w = {} if sex is None else {"sex": sex}
                rows.append(
                    ShownRow(
                        sex_label,
                        [
                            ShownCell(_sum(figures, table, **w), {"table": table, **w}),
                            *(
                                ShownCell(
                                    _sum(figures, table, age=a, **w),
                                    {"table": table, "age": a, **w},
                                )
                                for a in ages
                            ),
                        ],
                        strong=True,
                        sub=sex is not None,
                    )
                )
            columns = [_("Total"), *(_("%(age)s yrs") % {"age": a} for a in ages)]
            tables.append(ShownTable(table, title, _("Grade"), columns, rows))
            continue
        if table == ReportTable.MOVEMENT:
            categories = list(snapshot.MOVEMENTS)
        else:
            values = DIMENSIONS[table].values() if table in DIMENSIONS else []
            present = sorted({k[4] for k in keys})
            categories = [v for v in values if v in present] if values else present
            if table in ("left_behind", "migrant_child", "boarding"):
                categories = list(values) or present
            categories += [c for c in present if c not in categories]
        rows = [
            ShownRow(category_label(table, c), _sex_cells(figures, table, category=c))
            for c in categories
        ]
        if table != ReportTable.MOVEMENT:
            rows.append(ShownRow(_("Total"), _sex_cells(figures, table), strong=True))
        tables.append(ShownTable(table, title, title, sex_columns, rows))
    return tables


# ---- the units below ---------------------------------------------------------------------------


@dataclass
class ChildRow:
    unit: UnitReport
    name: str
    code: str
    reported: int | None
    previous: int | None
    registry: int | None


def _totals(submission_ids: list[int]) -> dict[int, int]:
    rows = (
        Cell.objects.filter(submission_id__in=submission_ids, table=ReportTable.GRADE_AGE_SEX)
        .values_list("submission_id")
        .annotate(n=Sum("count"))
    )
    return {int(s): int(n) for s, n in rows}


def children_rows(unit: UnitReport) -> list[ChildRow]:
    """The units one level below with their state, the total they reported (children on roll
    in grade × age × sex), last round's total and the registry's count now on the census date."""
    children = list(
        UnitReport.objects.filter(parent=unit)
        .select_related("school", "division", "confirmed_by")
        .order_by("division_id", "school__code")
    )
    previous: dict[Any, int | None] = {}
    if unit.round.previous_id is not None and children:
        level = children[0].level
        key = "school_id" if level == UnitLevel.SCHOOL else "division_id"
        olds = UnitReport.objects.filter(
            round_id=unit.round.previous_id,
            level=level,
            **{f"{key}__in": [getattr(c, key) for c in children]},
        ).values_list(key, "submission_id")
        old_totals = _totals([s for _k, s in olds if s])
        previous = {k: old_totals.get(s, 0) if s else None for k, s in olds}
    totals = _totals([c.submission_id for c in children if c.submission_id])
    registry = registry_counts(unit)
    rows = []
    for child in children:
        ident = child.school_id if child.level == UnitLevel.SCHOOL else child.division_id
        rows.append(
            ChildRow(
                unit=child,
                name=unit_name(child),
                code=child.school.code if child.school else (child.division_id or ""),
                reported=totals.get(child.submission_id) if child.submission_id else None,
                previous=previous.get(ident),
                registry=registry.get(str(ident)),
            )
        )
    return rows


def registry_counts(unit: UnitReport) -> dict[str, int]:
    """Children the registry counts now on the census date, per unit one level below."""
    below = {"county": "school", "city": "county", "province": "city", "nation": "province"}
    key = below.get(unit.level)
    if key is None:
        return {}
    area = (
        stats_sql.Area("nation")
        if unit.level == UnitLevel.NATION
        else stats_sql.Area(unit.level, unit.division_id or "")
    )
    nation = Scope(role="bureau_viewer", level=ScopeLevel.NATION)
    rows = stats_sql.on_roll(unit.round.census_date, area, nation, [key], rollup=False)
    return {str(k): int(n) for k, n in rows}


@dataclass
class CountyCheck:
    """The unit's own total against the sum of its units and against last round's."""

    own: int | None
    units_sum: int
    registry: int
    previous: int | None
    units_confirmed: int
    units_total: int
    difference: int | None = None
    change: int | None = None
    notes: list[str] = field(default_factory=list)


def total_check(unit: UnitReport, rows: list[ChildRow]) -> CountyCheck:
    own = total_of(figures_of(unit.submission_id)) if unit.submission_id else None
    units_sum = sum(r.reported or 0 for r in rows)
    registry = sum(r.registry or 0 for r in rows)
    old = previous_unit(unit)
    previous = total_of(figures_of(old.submission_id)) if old and old.submission_id else None
    confirmed = sum(1 for r in rows if r.unit.state == UnitState.CONFIRMED)
    check = CountyCheck(own, units_sum, registry, previous, confirmed, len(rows))
    if own is not None:
        check.difference = own - units_sum
    if previous is not None:
        check.change = (own if own is not None else units_sum) - previous
    return check


# ---- a cell's breakdown by class, and the children behind it ------------------------------------

CELL_FILTERS = ("grade", "age", "sex", "category")


def parse_cell(query: dict[str, Any], tables: list[str]) -> dict[str, Any] | None:
    """The cell a query string names (table, and any of grade, age, sex, category), or None."""
    table = str(query.get("table") or "")
    if table not in tables:
        return None
    cell: dict[str, Any] = {"table": table}
    for name in CELL_FILTERS:
        value = query.get(name)
        if value in (None, ""):
            continue
        if name in ("grade", "age"):
            try:
                cell[name] = int(value)
            except (TypeError, ValueError):
                return None
        else:
            cell[name] = str(value)[:32]
    return cell


@dataclass
class ClassCount:
    school_class_id: int
    school: str
    name: str
    count: int


def cell_classes(unit: UnitReport, cell: dict[str, Any]) -> list[ClassCount]:
    """The classes behind a cell of the report in force: a school's own classes, or a
    division's schools' classes (from their reports in force)."""
    cells = Cell.objects.filter(table=cell["table"], school_class__isnull=False)
    for name in CELL_FILTERS:
        if name in cell:
            cells = cells.filter(**{name: cell[name]})
    if unit.level == UnitLevel.SCHOOL:
        cells = cells.filter(submission_id=unit.submission_id or 0)
    else:
        cells = cells.filter(submission_id__in=_school_submissions(unit))
    rows = (
        cells.values_list("school_class_id", "school_class__name", "school_class__school__name")
        .annotate(n=Sum("count"))
        .order_by("school_class__school__code", "school_class__grade", "school_class__number")
    )
    return [ClassCount(c, str(s), str(n), int(k)) for c, n, s, k in rows if k]


def _school_submissions(unit: UnitReport) -> QuerySet[UnitReport, int]:
    """The submissions in force of the schools under a division's report."""
    schools = UnitReport.objects.filter(round_id=unit.round_id, level=UnitLevel.SCHOOL)
    if unit.level != UnitLevel.NATION:
        schools = schools.filter(**{f"school__{unit.level}_id": unit.division_id})
    return schools.exclude(submission__isnull=True).values_list("submission_id", flat=True)


@dataclass
class ChildLine:
    id: Any
    name: str
    number: str
    school_class: str


def mask_name(name: str) -> str:
    """张春铭 → 张*铭, 张铭 → 张*."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


CATEGORY_FIELDS = {
    "ethnicity": "ethnicity",
    "left_behind": "left_behind",
    "disability": "disability_type",
    "boarding": "attendance_mode",
}


def counted_in_classes(on: datetime.date, class_ids: list[int]) -> QuerySet[Student]:
    """Children counted on a day in the classes (the statistics' rule)."""
    on_roll = [str(s) for s in ON_ROLL_STATES]
    return Student.objects.filter(
        Q(placements__end_date__isnull=True, state__in=on_roll) | Q(placements__end_date__gt=on),
        placements__school_class_id__in=class_ids,
        placements__start_date__lte=on,
    )


def cell_children(
    unit: UnitReport, cell: dict[str, Any], class_ids: list[int], limit: int = 200
) -> list[ChildLine]:
    """The children behind a head-count cell in the classes, masked, from the registry as it
    stands (a corrected record shows as corrected; the report's figures do not move)."""
    table = cell["table"]
    if table not in snapshot.ON_ROLL_TABLES or not class_ids:
        return []
    on = unit.round.census_date
    found = counted_in_classes(on, class_ids)
    if "grade" in cell:
        found = found.filter(placements__grade=cell["grade"])
    if "sex" in cell:
        found = found.filter(sex=cell["sex"])
    if "age" in cell:
        age = cell["age"]
        found = found.filter(
            birth_date__lte=_years_before(on, age),
            birth_date__gt=_years_before(on, age + 1),
        )
    if "category" in cell:
        value = cell["category"]
        if table in CATEGORY_FIELDS:
            found = found.filter(**{CATEGORY_FIELDS[table]: value})
        elif table == ReportTable.MIGRANT_CHILD:
            found = found.filter(migrant_child=value == "1")
        elif table == ReportTable.ANNUAL:
            found = found.filter(placements__school__kind=value)
    return child_lines(found.distinct(), on, limit)


def child_lines(students: QuerySet[Student], on: datetime.date, limit: int) -> list[ChildLine]:
    rows = list(students.order_by("name_pinyin", "id")[:limit])
    classes = class_names_on([s.pk for s in rows], on)
    return [
        ChildLine(
            s.pk, mask_name(s.name), mask_student_number(s.number_masked), classes.get(s.pk, "")
        )
        for s in rows
    ]


def class_names_on(student_ids: list[Any], on: datetime.date) -> dict[Any, str]:
    rows = (
        Placement.objects.filter(student_id__in=student_ids, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .values_list("student_id", "school_class__name", "grade")
    )
    return {s: f"{grade_label(int(g))} {n}" for s, n, g in rows}


# ---- the changes since the previous report, by child --------------------------------------------


@dataclass
class ChangeLine:
    kind: str
    label: str
    child: ChildLine
    on: datetime.date | None


def changes_since(unit: UnitReport, limit: int = 500) -> list[ChangeLine]:
    """A school's entrants, transfers in and out and leavers since the previous report (or the
    start of the school year), each child named masked, with the class and the day."""
    if unit.level != UnitLevel.SCHOOL or unit.school_id is None:
        return []
    start = period_start(unit.round)
    end = unit.round.census_date
    school = unit.school_id
    lines: list[ChangeLine] = []

    def add(kind: str, placements: Any, day_field: str) -> None:
        for p in placements.select_related("student", "school_class")[:limit]:
            lines.append(
                ChangeLine(
                    kind,
                    movement_label(kind),
                    ChildLine(
                        p.student_id,
                        mask_name(p.student.name),
                        mask_student_number(p.student.number_masked),
                        f"{grade_label(p.grade)} {p.school_class.name}",
                    ),
                    getattr(p, day_field),
                )
            )

    window = {"start_date__gt": start, "start_date__lte": end}
    add(
        "entrants",
        Placement.objects.filter(school_id=school, reason__in=ENTRY_REASONS, **window),
        "start_date",
    )
    moved_from_elsewhere = Placement.objects.filter(
        student_id=OuterRef("student_id"), end_date=OuterRef("start_date")
    ).exclude(school_id=school)
    add(
        "transfers_in",
        Placement.objects.filter(
            school_id=school, reason=PlacementReason.TRANSFER, **window
        ).filter(Exists(moved_from_elsewhere)),
        "start_date",
    )
    moved_elsewhere = Placement.objects.filter(
        student_id=OuterRef("student_id"),
        start_date=OuterRef("end_date"),
        reason=PlacementReason.TRANSFER,
    ).exclude(school_id=school)
    add(
        "transfers_out",
        Placement.objects.filter(school_id=school, end_date__gt=start, end_date__lte=end)
        .exclude(end_date=F("start_date"))
        .filter(Exists(moved_elsewhere)),
        "end_date",
    )
    off_roll = list(stats_sql.OFF_ROLL_STATES)
    leavers = Placement.objects.filter(
        school_id=school,
        student__state__in=off_roll,
        end_date__gt=start,
        end_date__lte=end,
    ).exclude(
        Exists(
            Placement.objects.filter(
                student_id=OuterRef("student_id"), start_date__gte=OuterRef("end_date")
            )
        )
    )
    for p in leavers.select_related("student", "school_class")[:limit]:
        state = p.student.state
        kind = (
            "graduated"
            if state in stats_sql.GRADUATED_STATES
            else "dropped_out"
            if state in stats_sql.DROPOUT_STATES
            else "other_departures"
        )
        lines.append(
            ChangeLine(
                kind,
                movement_label(kind),
                ChildLine(
                    p.student_id,
                    mask_name(p.student.name),
                    mask_student_number(p.student.number_masked),
                    f"{grade_label(p.grade)} {p.school_class.name}",
                ),
                p.end_date,
            )
        )
    return lines


# ---- revisions ---------------------------------------------------------------------------------


@dataclass
class RevisionView:
    revision: Revision
    before: int
    after: int
    changed: list[tuple[str, str, int, int]]


def revisions_of(unit: UnitReport) -> list[RevisionView]:
    """Each revision with both figures kept: the totals and the cells that differ."""
    views = []
    for revision in unit.revisions.select_related("requested_by", "decided_by").all():
        old = figures_of(revision.previous_id)
        new = figures_of(revision.submission_id)
        changed = []
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key, 0) != new.get(key, 0):
                changed.append(
                    (
                        str(ReportTable(key[0]).label),
                        describe_key(key),
                        old.get(key, 0),
                        new.get(key, 0),
                    )
                )
        views.append(RevisionView(revision, total_of(old), total_of(new), changed[:50]))
    return views


def describe_key(key: Key) -> str:
    table, grade, age, sex, category = key
    parts = []
    if category:
        parts.append(category_label(table, category))
    if grade is not None:
        parts.append(grade_label(int(grade)))
    if age is not None:
        parts.append(_("%(age)s yrs") % {"age": age})
    if sex:
        parts.append(str(dict(codes.Sex.choices).get(sex, sex)))
    return " · ".join(parts)


def submission_get(unit: UnitReport, number: int) -> Submission | None:
    return unit.submissions.filter(number=number).first()


def class_label(school_class: SchoolClass) -> str:
    return f"{grade_label(school_class.grade)} {school_class.name}"
