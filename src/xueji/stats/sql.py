"""The set-based statements behind every figure: portable SQL for PostgreSQL and SQLite.

Who is counted on a date D (the rule every figure uses): a child whose placement covers D —
start_date ≤ D < end_date, an open placement (end_date null) running on — and whose record is
either still on a school's roll (在籍, 休学, 转学中) or was closed there since (a closed placement
is history: the child was there on D). An open placement of a record that has left the roll
(graduated, dropped out, …) is not counted on any date.

The statements group in the database and return only the groups; nothing is counted in Python.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from xueji.access.models import ScopeLevel
from xueji.access.scope import Scope
from xueji.schools.models import School
from xueji.stats import rollup as headcounts
from xueji.stats.rollup import ROLLUP
from xueji.students.models import (
    ENTRY_REASONS,
    NOT_AN_EXIT_STATES,
    ON_ROLL_STATES,
    Placement,
    PlacementReason,
    RecordEvent,
    RecordState,
    Student,
)

PLACEMENT = Placement._meta.db_table
STUDENT = Student._meta.db_table
SCHOOL = School._meta.db_table
EVENT = RecordEvent._meta.db_table

ON_ROLL = tuple(str(state) for state in ON_ROLL_STATES)
# The placements counted as new entrants are those whose reason is among the students app's
# ENTRY_REASONS (a registration, an intake into a new stage); a transfer opens one with
# PlacementReason.TRANSFER.
GRADUATED_STATES = (str(RecordState.GRADUATED), str(RecordState.COMPLETED))
DROPOUT_STATES = (str(RecordState.DROPPED_OUT),)
ATTRITION_STATES = (
    str(RecordState.DROPPED_OUT),
    str(RecordState.WITHDRAWN),
    str(RecordState.INCOMPLETE),
    str(RecordState.LEFT_OTHER),
)
# A record merged into the other one (一人多籍) is no exit: the child counts on the survivor.
OFF_ROLL_STATES = tuple(
    str(s) for s in RecordState if s not in ON_ROLL_STATES and s not in NOT_AN_EXIT_STATES
)

# Keys a count can be grouped by: SQL over placement p, student s and school sc.
KEYS: dict[str, str] = {
    "grade": "p.grade",
    "sex": "s.sex",
    "ethnicity": "s.ethnicity",
    "hukou_nature": "s.hukou_nature",
    "left_behind": "s.left_behind",
    "migrant_child": "CASE WHEN s.migrant_child THEN '1' ELSE '0' END",
    "disability": "s.disability_type",
    "boarding": "s.attendance_mode",
    "school_kind": "sc.kind",
    "origin_province": "SUBSTR(s.hukou_division_id, 1, 2)",
    "class": "p.school_class_id",
    "school": "p.school_id",
    "county": "sc.county_id",
    "city": "sc.city_id",
    "province": "sc.province_id",
}


@dataclass(frozen=True)
class Area:
    """What is counted: the whole nation, a division, a school, one grade of it, or a class."""

    level: str
    code: str = ""
    school_id: int | None = None
    grade: int | None = None
    class_id: int | None = None

    def where(self, placement: str = "p", school: str = "sc") -> tuple[str, list[Any]]:
        """The condition on a placement (and its school) being in the area."""
        if self.level == "nation":
            return "1 = 1", []
        if self.level in ("province", "city", "county"):
            return f"{school}.{self.level}_id = %s", [self.code]
        if self.level == "school":
            return f"{placement}.school_id = %s", [self.school_id]
        if self.level == "grade":
            return f"{placement}.school_id = %s AND {placement}.grade = %s", [
                self.school_id,
                self.grade,
            ]
        if self.level == "class":
            return f"{placement}.school_class_id = %s", [self.class_id]
        raise ValueError(f"unknown level {self.level!r}")

    def school_where(self, school: str) -> tuple[str, list[Any]]:
        """The condition on a school alone (for areas of whole schools or divisions)."""
        if self.level == "nation":
            return "1 = 1", []
        if self.level in ("province", "city", "county"):
            return f"{school}.{self.level}_id = %s", [self.code]
        if self.level == "school":
            return f"{school}.id = %s", [self.school_id]
        raise ValueError(f"{self.level} is not an area of whole schools")


def scope_where(scope: Scope, school: str = "sc") -> tuple[str, list[Any]]:
    """The caller's scope on the school, added to every statement as a second fence."""
    if scope.level == ScopeLevel.NATION:
        return "1 = 1", []
    if scope.level == ScopeLevel.SCHOOL:
        return f"{school}.id = %s", [scope.school_id]
    return f"{school}.{scope.level}_id = %s", [scope.division_code]


def age_sql(on: datetime.date, birth_date: str = "s.birth_date") -> str:
    """Age in completed years on `on`: (YYYYMMDD of the day − YYYYMMDD of the birth) div 10000.

    The day is an integer literal made here from a date, never text from a request."""
    day = int(on.strftime("%Y%m%d"))
    if connection.vendor == "postgresql":
        born = (
            f"(CAST(EXTRACT(YEAR FROM {birth_date}) AS integer) * 10000 "
            f"+ CAST(EXTRACT(MONTH FROM {birth_date}) AS integer) * 100 "
            f"+ CAST(EXTRACT(DAY FROM {birth_date}) AS integer))"
        )
    else:
        born = f"CAST(strftime('%%Y%%m%%d', {birth_date}) AS integer)"
    return f"(({day} - {born}) / 10000)"


def _counted_on(on: datetime.date) -> tuple[str, list[Any]]:
    states = ", ".join(["%s"] * len(ON_ROLL))
    return (
        "p.start_date <= %s AND (p.end_date IS NULL OR p.end_date > %s) "
        f"AND (p.end_date IS NOT NULL OR s.state IN ({states}))",
        [on, on, *ON_ROLL],
    )


def _run(statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # An aggregate over millions of rows: memory for its hash tables; no JIT, whose
            # compilation costs more than it saves here; and rows handed between parallel
            # workers counted as free, so that each worker aggregates its share of the rows
            # (the planner otherwise gathers every row into one process to group them there,
            # taking the groups for many more than they are: the whole table is twice slower).
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL parallel_tuple_cost = 0")
        cursor.execute(statement, list(params))
        return list(cursor.fetchall())


# Keys the head-count rollup (stats.HeadcountDelta) holds, over its rows r.
ROLLUP_KEYS: dict[str, str] = {
    "grade": "r.grade",
    "sex": "r.sex",
    "age": "r.birth_date",
    "province": "r.province",
}


def _rollup_fence(area: Area, scope: Scope) -> tuple[str, list[Any]] | None:
    """The rollup's condition for the area within the scope; None where it cannot answer (an
    area below a province, or a scope narrower than the area)."""
    if area.level == "nation" and scope.level == ScopeLevel.NATION:
        return "1 = 1", []
    if area.level == "province" and (
        scope.level == ScopeLevel.NATION
        or (scope.level == ScopeLevel.PROVINCE and scope.division_code == area.code)
    ):
        return "r.province = %s", [area.code]
    return None


def _on_roll_rollup(
    on: datetime.date, fence: tuple[str, list[Any]], keys: Sequence[str]
) -> list[tuple[Any, ...]]:
    """on_roll from the running sums: a province's table reads some 20,000 rows, not a million
    placements joined to a million students."""
    fence_sql, fence_params = fence
    inner = [ROLLUP_KEYS[key] for key in keys]
    select = ", ".join(
        [*(f"{column} AS k{i}" for i, column in enumerate(inner)), "SUM(r.delta) AS n"]
    )
    statement = f"SELECT {select} FROM {ROLLUP} r WHERE r.day <= %s AND {fence_sql}"
    if not keys:
        rows = _run(statement, [on, *fence_params])
        return [(int(rows[0][0] or 0),)]
    group = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
    statement += group + " HAVING SUM(r.delta) <> 0"
    if "age" in keys:
        outer = [
            age_sql(on, f"g.k{i}") if key == "age" else f"g.k{i}" for i, key in enumerate(keys)
        ]
        statement = f"SELECT {', '.join(outer)}, SUM(g.n) FROM ({statement}) g" + group
    rows = _run(statement, [on, *fence_params])
    return [(*row[:-1], int(row[-1])) for row in rows]


def on_roll(
    on: datetime.date,
    area: Area,
    scope: Scope,
    keys: Sequence[str],
    *,
    rollup: bool = True,
) -> list[tuple[Any, ...]]:
    """Children counted on a date in an area, grouped: rows of (key, …, count).

    A province or the nation by grade, age, sex (or province) comes from the head-count rollup
    where the database keeps one (PostgreSQL; `rollup=False` counts from the rows). With "age"
    among the keys, the rows are grouped by birth date first and the age worked out once per
    group of the outer query, not once per child."""
    if rollup and set(keys) <= set(ROLLUP_KEYS) and headcounts.available():
        fence = _rollup_fence(area, scope)
        if fence is not None:
            return _on_roll_rollup(on, fence, keys)
    area_sql, area_params = area.where()
    scope_sql, scope_params = scope_where(scope)
    counted_sql, counted_params = _counted_on(on)
    inner = ["s.birth_date" if key == "age" else KEYS[key] for key in keys]
    select = ", ".join([*(f"{column} AS k{i}" for i, column in enumerate(inner)), "COUNT(*) AS n"])
    statement = (
        f"SELECT {select} FROM {PLACEMENT} p "
        f"JOIN {STUDENT} s ON s.id = p.student_id "
        f"JOIN {SCHOOL} sc ON sc.id = p.school_id "
        f"WHERE {counted_sql} AND {area_sql} AND {scope_sql}"
    )
    if keys:
        statement += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
    if "age" in keys:
        outer = [
            age_sql(on, f"g.k{i}") if key == "age" else f"g.k{i}" for i, key in enumerate(keys)
        ]
        statement = (
            f"SELECT {', '.join(outer)}, SUM(g.n) FROM ({statement}) g "
            "GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
        )
    rows = _run(statement, [*counted_params, *area_params, *scope_params])
    return [(*row[:-1], int(row[-1])) for row in rows]


def schools_open(on: datetime.date, area: Area, scope: Scope, key: str) -> list[tuple[Any, int]]:
    """Schools of the area open on a date (not closed by then), grouped by their `key` (a unit:
    province, city or county): rows of (unit, schools)."""
    if key not in ("county", "city", "province"):
        raise ValueError(f"schools are grouped by county, city or province, not {key!r}")
    area_sql, area_params = area.school_where("sc")
    scope_sql, scope_params = scope_where(scope)
    statement = (
        f"SELECT {KEYS[key]}, COUNT(*) FROM {SCHOOL} sc "
        f"WHERE (sc.closed_on IS NULL OR sc.closed_on > %s) AND {area_sql} AND {scope_sql} "
        "GROUP BY 1"
    )
    return [(unit, int(n)) for unit, n in _run(statement, [on, *area_params, *scope_params])]


def entrants(
    start: datetime.date, end: datetime.date, area: Area, scope: Scope, keys: Sequence[str]
) -> list[tuple[Any, ...]]:
    """New entrants: placements opened for one of the ENTRY_REASONS (a registration, an intake
    into a new stage) from `start` to `end`."""
    columns = [KEYS[key] for key in keys]
    area_sql, area_params = area.where()
    scope_sql, scope_params = scope_where(scope)
    entry_reasons = [reason.value for reason in ENTRY_REASONS]
    reasons = ", ".join(["%s"] * len(entry_reasons))
    select = ", ".join([*columns, "COUNT(*)"])
    statement = (
        f"SELECT {select} FROM {PLACEMENT} p "
        f"JOIN {STUDENT} s ON s.id = p.student_id "
        f"JOIN {SCHOOL} sc ON sc.id = p.school_id "
        f"WHERE p.reason IN ({reasons}) AND p.start_date >= %s AND p.start_date <= %s "
        f"AND {area_sql} AND {scope_sql}"
    )
    if columns:
        statement += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(columns)))
    return _run(statement, [*entry_reasons, start, end, *area_params, *scope_params])


def _moves_from(start: datetime.date, end: datetime.date, reason: str | None) -> tuple[str, list]:
    """Moves: consecutive placements of one child, the first closed on the day the second
    opened, at two different schools; a placement that never held the child a day (closed the
    day it opened) is not part of any move."""
    reason_sql, reason_params = ("AND p.reason = %s ", [reason]) if reason else ("", [])
    return (
        f"FROM {PLACEMENT} p "
        f"JOIN {PLACEMENT} q ON q.student_id = p.student_id AND q.end_date = p.start_date "
        f"JOIN {STUDENT} s ON s.id = p.student_id "
        f"JOIN {SCHOOL} t ON t.id = p.school_id "
        f"JOIN {SCHOOL} f ON f.id = q.school_id "
        f"WHERE p.start_date >= %s AND p.start_date <= %s {reason_sql}"
        "AND q.end_date > q.start_date AND (p.end_date IS NULL OR p.end_date > p.start_date) "
        "AND q.school_id <> p.school_id ",
        [start, end, *reason_params],
    )


def flows(
    start: datetime.date, end: datetime.date, area: Area, scope: Scope, level: str
) -> list[tuple[str, str, int]]:
    """Moves between units of `level` (county, city or province) that begin or end in the
    area: rows of (origin unit, destination unit, children)."""
    if level not in ("county", "city", "province"):
        raise ValueError(f"unknown level {level!r}")
    moves_sql, moves_params = _moves_from(start, end, None)
    origin_sql, origin_params = area.school_where("f")
    destination_sql, destination_params = area.school_where("t")
    scope_origin, scope_origin_params = scope_where(scope, "f")
    scope_destination, scope_destination_params = scope_where(scope, "t")
    statement = (
        f"SELECT f.{level}_id, t.{level}_id, COUNT(*) {moves_sql}"
        f"AND f.{level}_id <> t.{level}_id "
        f"AND (({origin_sql} AND {scope_origin}) OR ({destination_sql} AND {scope_destination})) "
        "GROUP BY 1, 2"
    )
    params = [
        *moves_params,
        *origin_params,
        *scope_origin_params,
        *destination_params,
        *scope_destination_params,
    ]
    return [(str(a), str(b), int(n)) for a, b, n in _run(statement, params)]


def transfers(
    start: datetime.date, end: datetime.date, area: Area, scope: Scope, keys: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Transfers (placements opened with PlacementReason.TRANSFER) from `start` to `end` touching
    the area: rows of (direction, key, …, count), direction "in" (from a school outside the area
    to one inside), "out" (the other way) or "within" (between two schools inside)."""
    moves_sql, moves_params = _moves_from(start, end, PlacementReason.TRANSFER.value)
    inside_origin, origin_params = area.school_where("f")
    inside_destination, destination_params = area.school_where("t")
    scope_origin, scope_origin_params = scope_where(scope, "f")
    scope_destination, scope_destination_params = scope_where(scope, "t")
    columns = [KEYS[key] for key in keys]
    direction = (
        f"CASE WHEN ({inside_origin}) AND ({inside_destination}) THEN 'within' "
        f"WHEN ({inside_destination}) THEN 'in' ELSE 'out' END"
    )
    select = ", ".join([direction, *columns, "COUNT(*)"])
    group = ", ".join(str(i + 1) for i in range(len(columns) + 1))
    statement = (
        f"SELECT {select} {moves_sql}"
        f"AND (({inside_origin} AND {scope_origin}) "
        f"OR ({inside_destination} AND {scope_destination})) "
        f"GROUP BY {group}"
    )
    params = [
        *origin_params,
        *destination_params,
        *destination_params,
        *moves_params,
        *origin_params,
        *scope_origin_params,
        *destination_params,
        *scope_destination_params,
    ]
    return _run(statement, params)


def exits(
    start: datetime.date,
    end: datetime.date,
    area: Area,
    scope: Scope,
    keys: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Records that left the roll: rows of (state, dated, key, …, count) for the records now in
    an off-roll state, held by a school in the area, whose exit date falls from `start` to `end`
    (dated = 1), or that have no exit date at all (dated = 0).

    The exit date is the date of the record's latest event named as the state (e.g. an event
    "graduated" for a graduate), where there is one; else the day its last placement closed."""
    columns = [KEYS[key] for key in keys if key in ("sex", "school_kind", "county")]
    if len(columns) != len(keys):
        raise ValueError("exits are grouped by sex, school kind or county only")
    area_sql, area_params = area.school_where("sc")
    scope_sql, scope_params = scope_where(scope)
    states = ", ".join(["%s"] * len(OFF_ROLL_STATES))
    exit_date = (
        f"COALESCE((SELECT MAX(e.occurred_on) FROM {EVENT} e "
        "WHERE e.student_id = s.id AND e.kind = s.state), "
        f"(SELECT MAX(l.end_date) FROM {PLACEMENT} l WHERE l.student_id = s.id))"
    )
    select = ", ".join(["x.state", "x.dated", *[f"x.k{i}" for i in range(len(columns))]])
    inner_keys = "".join(f", {column} AS k{i}" for i, column in enumerate(columns))
    # The date is worked out in an inner query, so that both databases group by plain columns.
    statement = (
        f"SELECT {select}, COUNT(*) FROM (SELECT y.state AS state, "
        "CASE WHEN y.exit_on IS NULL THEN 0 ELSE 1 END AS dated"
        + "".join(f", y.k{i} AS k{i}" for i in range(len(columns)))
        + f" FROM (SELECT s.state AS state, {exit_date} AS exit_on{inner_keys} "
        f"FROM {STUDENT} s JOIN {SCHOOL} sc ON sc.id = s.school_id "
        f"WHERE s.state IN ({states}) AND {area_sql} AND {scope_sql}) y "
        "WHERE y.exit_on IS NULL OR (y.exit_on >= %s AND y.exit_on <= %s)) x "
        "GROUP BY " + ", ".join(str(i + 1) for i in range(len(columns) + 2))
    )
    return _run(statement, [*OFF_ROLL_STATES, *area_params, *scope_params, start, end])


def cohorts(
    entries: Sequence[tuple[int, datetime.date, int]],
    on: datetime.date,
    area: Area,
    scope: Scope,
) -> list[tuple[int, str, int]]:
    """Cohorts, each (entry year, census day of that year, first grade of the stage): the
    children counted in that grade on that day in the area. Returns rows of (entry year, "" for
    those counted anywhere on `on` or else the record's state now, children), in one pass."""
    if not entries:
        return []
    area_sql, area_params = area.where()
    scope_sql, scope_params = scope_where(scope)
    on_roll = ", ".join(["%s"] * len(ON_ROLL))
    cohort_rows = " UNION ALL ".join(["SELECT %s AS entry, %s AS day, %s AS grade"] * len(entries))
    cohort_params = [value for entry in entries for value in entry]
    statement = (
        "SELECT c.entry, CASE WHEN EXISTS (SELECT 1 FROM "
        f"{PLACEMENT} n WHERE n.student_id = p.student_id AND n.start_date <= %s "
        f"AND (n.end_date IS NULL OR n.end_date > %s) "
        f"AND (n.end_date IS NOT NULL OR s.state IN ({on_roll}))) THEN '' ELSE s.state END, "
        f"COUNT(*) FROM ({cohort_rows}) c "
        f"JOIN {PLACEMENT} p ON p.grade = c.grade AND p.start_date <= c.day "
        "AND (p.end_date IS NULL OR p.end_date > c.day) "
        f"JOIN {STUDENT} s ON s.id = p.student_id "
        f"JOIN {SCHOOL} sc ON sc.id = p.school_id "
        f"WHERE (p.end_date IS NOT NULL OR s.state IN ({on_roll})) "
        f"AND {area_sql} AND {scope_sql} GROUP BY 1, 2"
    )
    rows = _run(
        statement,
        [on, on, *ON_ROLL, *cohort_params, *ON_ROLL, *area_params, *scope_params],
    )
    return [(int(entry), str(state), int(n)) for entry, state, n in rows]
