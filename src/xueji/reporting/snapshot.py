"""The set-based statements that store a round's figures: INSERT … SELECT, never a row at a time.

A school's submission is counted from the registry on the round's census date by the rule every
statistic uses (xueji.stats.sql): a child whose placement covers the day and whose record is on
a school's roll, or was closed there since. Each table is grouped by class as well (the
class-by-class breakdown behind every cell). Many schools are snapshotted in one pass: each has
a submission of the same `batch`, found by its school.

A division's submission is the sum of its units' submissions in force, grouped in the database.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db import connection

from xueji.reporting.models import Cell, ReportTable, Submission, UnitReport
from xueji.stats import sql as stats_sql
from xueji.students.models import ENTRY_REASONS, PlacementReason

CELL = Cell._meta.db_table
SUBMISSION = Submission._meta.db_table
UNIT = UnitReport._meta.db_table
PLACEMENT = stats_sql.PLACEMENT
STUDENT = stats_sql.STUDENT
SCHOOL = stats_sql.SCHOOL
EVENT = stats_sql.EVENT

CELL_COLUMNS = 'submission_id, "table", school_class_id, grade, age, sex, category, count'

# The head-count tables: (grade, age, sex, category) over placement p, student s, school sc.
ON_ROLL_TABLES: dict[str, tuple[str, str | None, str, str]] = {
    ReportTable.GRADE_AGE_SEX: ("p.grade", "age", "s.sex", "''"),
    ReportTable.ETHNICITY: ("p.grade", None, "s.sex", "s.ethnicity"),
    ReportTable.LEFT_BEHIND: ("p.grade", None, "s.sex", "s.left_behind"),
    ReportTable.MIGRANT_CHILD: ("p.grade", None, "s.sex", stats_sql.KEYS["migrant_child"]),
    ReportTable.DISABILITY: ("p.grade", None, "s.sex", "s.disability_type"),
    ReportTable.BOARDING: ("p.grade", None, "s.sex", "s.attendance_mode"),
    ReportTable.ANNUAL: ("p.grade", "age", "s.sex", "sc.kind"),
}

# A cell with no age (PostgreSQL types a bare NULL of a grouped SELECT as text).
NO_AGE = "CAST(NULL AS smallint)"

# The kinds of movement the table of entrants and leavers counts, in its order.
MOVEMENTS = (
    "entrants",
    "transfers_in",
    "transfers_out",
    "graduated",
    "dropped_out",
    "other_departures",
)


def counted_on(on: datetime.date) -> tuple[str, list[Any]]:
    """Who is counted on a day (xueji.stats.sql's rule), over placement p and student s."""
    states = ", ".join(["%s"] * len(stats_sql.ON_ROLL))
    return (
        "p.start_date <= %s AND (p.end_date IS NULL OR p.end_date > %s) "
        f"AND (p.end_date IS NOT NULL OR s.state IN ({states}))",
        [on, on, *stats_sql.ON_ROLL],
    )


def on_roll_select(
    table: str, on: datetime.date, join: str, join_params: list[Any], head: str
) -> tuple[str, list[Any]]:
    """SELECT head, table, class, grade, age, sex, category, count for one head-count table;
    `join` joins what gives `head` (a submission, or nothing) to placement p / school sc."""
    grade, age, sex, category = ON_ROLL_TABLES[table]
    counted_sql, counted_params = counted_on(on)
    age_sql = stats_sql.age_sql(on) if age else NO_AGE
    statement = (
        f"SELECT {head}, %s, p.school_class_id, {grade}, {age_sql}, {sex}, {category}, "
        f"COUNT(*) FROM {PLACEMENT} p JOIN {STUDENT} s ON s.id = p.student_id "
        f"JOIN {SCHOOL} sc ON sc.id = p.school_id {join} "
        f"WHERE {counted_sql} GROUP BY 1, 3, 4, 5, 6, 7"
    )
    return statement, [str(table), *join_params, *counted_params]


def movement_selects(
    start: datetime.date, end: datetime.date, join: str, join_params: list[Any], head: str
) -> list[tuple[str, list[Any]]]:
    """SELECTs of the entrants and leavers of (start, end] by class: rows as on_roll_select's.

    `join` is joined with "{school}" standing for the column of the school each row is of."""
    entry = [reason.value for reason in ENTRY_REASONS]
    entry_marks = ", ".join(["%s"] * len(entry))
    transfer = PlacementReason.TRANSFER.value
    off_roll = list(stats_sql.OFF_ROLL_STATES)
    off_marks = ", ".join(["%s"] * len(off_roll))
    graduated = ", ".join(["%s"] * len(stats_sql.GRADUATED_STATES))
    dropped = ", ".join(["%s"] * len(stats_sql.DROPOUT_STATES))

    def joined(column: str) -> str:
        return join.replace("{school}", column)

    selects = [
        (
            f"SELECT {head}, 'movement', p.school_class_id, p.grade, {NO_AGE}, s.sex, 'entrants', "
            "COUNT(*) "
            f"FROM {PLACEMENT} p JOIN {STUDENT} s ON s.id = p.student_id {joined('p.school_id')} "
            f"WHERE p.reason IN ({entry_marks}) AND p.start_date > %s AND p.start_date <= %s "
            "GROUP BY 1, 3, 4, 5, 6, 7",
            [*join_params, *entry, start, end],
        ),
        (
            f"SELECT {head}, 'movement', p.school_class_id, p.grade, {NO_AGE}, s.sex, "
            "'transfers_in', COUNT(*) "
            f"FROM {PLACEMENT} p JOIN {STUDENT} s ON s.id = p.student_id {joined('p.school_id')} "
            "WHERE p.reason = %s AND p.start_date > %s AND p.start_date <= %s "
            f"AND EXISTS (SELECT 1 FROM {PLACEMENT} q WHERE q.student_id = p.student_id "
            "AND q.end_date = p.start_date AND q.school_id <> p.school_id) "
            "GROUP BY 1, 3, 4, 5, 6, 7",
            [*join_params, transfer, start, end],
        ),
        (
            f"SELECT {head}, 'movement', q.school_class_id, q.grade, {NO_AGE}, s.sex, "
            "'transfers_out', COUNT(*) "
            f"FROM {PLACEMENT} q JOIN {STUDENT} s ON s.id = q.student_id {joined('q.school_id')} "
            "WHERE q.end_date > %s AND q.end_date <= %s AND q.end_date > q.start_date "
            f"AND EXISTS (SELECT 1 FROM {PLACEMENT} p WHERE p.student_id = q.student_id "
            "AND p.start_date = q.end_date AND p.reason = %s AND p.school_id <> q.school_id) "
            "GROUP BY 1, 3, 4, 5, 6, 7",
            [*join_params, start, end, transfer],
        ),
        (
            f"SELECT {head}, 'movement', l.school_class_id, l.grade, {NO_AGE}, s.sex, "
            f"CASE WHEN s.state IN ({graduated}) THEN 'graduated' "
            f"WHEN s.state IN ({dropped}) THEN 'dropped_out' ELSE 'other_departures' END, "
            f"COUNT(*) FROM {STUDENT} s JOIN {PLACEMENT} l ON l.student_id = s.id "
            f"AND l.start_date = (SELECT MAX(m.start_date) FROM {PLACEMENT} m "
            f"WHERE m.student_id = s.id) {joined('l.school_id')} "
            f"WHERE s.state IN ({off_marks}) AND COALESCE((SELECT MAX(e.occurred_on) "
            f"FROM {EVENT} e WHERE e.student_id = s.id AND e.kind = s.state), l.end_date) > %s "
            f"AND COALESCE((SELECT MAX(e.occurred_on) FROM {EVENT} e WHERE "
            "e.student_id = s.id AND e.kind = s.state), l.end_date) <= %s "
            "GROUP BY 1, 3, 4, 5, 6, 7",
            [
                *stats_sql.GRADUATED_STATES,
                *stats_sql.DROPOUT_STATES,
                *join_params,
                *off_roll,
                start,
                end,
            ],
        ),
    ]
    return selects


def _execute(statement: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(statement, params)
        return int(cursor.rowcount or 0)


def insert_school_cells(
    *,
    batch: uuid.UUID,
    tables: list[str],
    census: datetime.date,
    period_start: datetime.date,
) -> int:
    """Insert the cells of every submission of `batch` (one per school): each table asked for,
    grouped by class, counted from the registry in one INSERT … SELECT per table. Returns the
    cells written. Runs in the caller's transaction."""
    head = "sub.id"
    written = 0
    batch_value = Submission._meta.get_field("batch").get_db_prep_value(batch, connection)
    for table in tables:
        if table in ON_ROLL_TABLES:
            join = f"JOIN {SUBMISSION} sub ON sub.school_id = p.school_id AND sub.batch = %s"
            select, params = on_roll_select(table, census, join, [batch_value], head)
            written += _execute(f"INSERT INTO {CELL} ({CELL_COLUMNS}) {select}", params)
        elif table == ReportTable.MOVEMENT:
            join = f"JOIN {SUBMISSION} sub ON sub.school_id = {{school}} AND sub.batch = %s"
            for select, params in movement_selects(period_start, census, join, [batch_value], head):
                written += _execute(f"INSERT INTO {CELL} ({CELL_COLUMNS}) {select}", params)
    return written


def insert_division_cells(*, submission_id: int, parent_id: int) -> int:
    """The sum of the units' submissions in force under `parent_id`, as the cells of
    `submission_id` (no class: a division's figures are by table cell only)."""
    return _execute(
        f"INSERT INTO {CELL} ({CELL_COLUMNS}) "
        f'SELECT %s, c."table", NULL, c.grade, c.age, c.sex, c.category, SUM(c.count) '
        f"FROM {CELL} c JOIN {UNIT} u ON u.submission_id = c.submission_id "
        f'WHERE u.parent_id = %s GROUP BY c."table", c.grade, c.age, c.sex, c.category',
        [submission_id, parent_id],
    )
