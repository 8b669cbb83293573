"""The head-count rollup (stats.HeadcountDelta) and the PostgreSQL triggers that keep it.

A placement contributes to the count of its province, grade and its student's sex and birth date
from its start date until its end date, when it is counted at all (sql.on_roll's rule: a closed
placement always, an open one while its record is on a school's roll). As running sums: +1 on
the start date, −1 on the end date. Every statement that changes placements, students (sex,
birth date, state) or schools (province) takes back the contributions of the rows as they were
and adds those of the rows as they are, in the same transaction (statement-level triggers with
transition tables, so a COPY of 100,000 rows is one grouped upsert). The contribution of a
placement needs its student and its school: whichever of placement and student is written last
adds it, so the order of inserts under deferred keys does not matter.

SQLite has no rollup: sql.on_roll counts from the rows there (and on PostgreSQL for anything but
a province or the nation by grade, age and sex).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

ROLLUP = "stats_headcountdelta"
PLACEMENT = "students_placement"
STUDENT = "students_student"
SCHOOL = "schools_school"
# Frozen with the triggers (migration 0001); a test checks them against students.ON_ROLL_STATES.
COUNTED_STATES = ("enrolled", "suspended", "transferring")
KEY = "province, grade, sex, birth_date, day"


def contributions(placements: str, students: str, schools: str, sign: int, where: str = "") -> str:
    """Rows (province, grade, sex, birth_date, day, delta) of the placements, each joined to its
    student and school, signed."""
    states = ", ".join(f"'{state}'" for state in COUNTED_STATES)
    extra = f" AND {where}" if where else ""
    return (
        "SELECT sc.province_id AS province, p.grade AS grade, s.sex AS sex, "
        f"s.birth_date AS birth_date, d.day AS day, {sign} * d.delta AS delta "
        f"FROM {placements} p JOIN {students} s ON s.id = p.student_id "
        f"JOIN {schools} sc ON sc.id = p.school_id "
        "CROSS JOIN LATERAL (VALUES (p.start_date, 1), (p.end_date, -1)) AS d(day, delta) "
        f"WHERE d.day IS NOT NULL AND (p.end_date IS NOT NULL OR s.state IN ({states})){extra}"
    )


def upsert(parts: Sequence[str]) -> str:
    """Add the signed contributions to the rollup, one row per key (in key order)."""
    union = " UNION ALL ".join(parts)
    return (
        f"INSERT INTO {ROLLUP} ({KEY}, delta) "
        f"SELECT {KEY}, SUM(delta) FROM ({union}) c GROUP BY {KEY} HAVING SUM(delta) <> 0 "
        f"ORDER BY {KEY} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET delta = {ROLLUP}.delta + EXCLUDED.delta"
    )


# Students whose counted attributes changed in an UPDATE statement, as they were / as they are.
_CHANGED = (
    "(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "WHERE (o.sex, o.birth_date, o.state) IS DISTINCT FROM (n.sex, n.birth_date, n.state))"
)
_MOVED = (
    "(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "WHERE o.province_id IS DISTINCT FROM n.province_id)"
)

# (name, table, event, transition tables, statement)
TRIGGERS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "placement_inserted",
        PLACEMENT,
        "INSERT",
        "NEW TABLE AS new_rows",
        upsert([contributions("new_rows", STUDENT, SCHOOL, 1)]),
    ),
    (
        "placement_updated",
        PLACEMENT,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        upsert(
            [
                contributions("old_rows", STUDENT, SCHOOL, -1),
                contributions("new_rows", STUDENT, SCHOOL, 1),
            ]
        ),
    ),
    (
        "placement_deleted",
        PLACEMENT,
        "DELETE",
        "OLD TABLE AS old_rows",
        upsert([contributions("old_rows", STUDENT, SCHOOL, -1)]),
    ),
    (
        "student_inserted",
        STUDENT,
        "INSERT",
        "NEW TABLE AS new_rows",
        upsert([contributions(PLACEMENT, "new_rows", SCHOOL, 1)]),
    ),
    (
        "student_updated",
        STUDENT,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        upsert(
            [
                contributions(PLACEMENT, _CHANGED.format(side="o"), SCHOOL, -1),
                contributions(PLACEMENT, _CHANGED.format(side="n"), SCHOOL, 1),
            ]
        ),
    ),
    (
        "student_deleted",
        STUDENT,
        "DELETE",
        "OLD TABLE AS old_rows",
        upsert([contributions(PLACEMENT, "old_rows", SCHOOL, -1)]),
    ),
    (
        "school_updated",
        SCHOOL,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        upsert(
            [
                contributions(PLACEMENT, STUDENT, _MOVED.format(side="o"), -1),
                contributions(PLACEMENT, STUDENT, _MOVED.format(side="n"), 1),
            ]
        ),
    ),
)


# Above this many rows a statement's contribution is planned for its size.
FEW_ROWS = 100


def functions_sql() -> list[str]:
    """The trigger functions. PL/pgSQL keeps the plan of a statement's first run for the
    session's life (without parameters it has one generic plan): after an import of 100,000
    rows, a connection (a task worker's, or a pooler's shared one) would join each later
    one-row write by a sequential scan of every student. So a statement of more than FEW_ROWS
    rows runs with EXECUTE, planned for its size; fewer keep the plan made for a few rows (one
    planning costs about as much as the one-row statement itself)."""
    statements = []
    for name, _table, _event, transition, body in TRIGGERS:
        rows = transition.split()[-1]
        statements.append(
            f"CREATE OR REPLACE FUNCTION stats_rollup_{name}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN IF EXISTS (SELECT FROM {rows} OFFSET {FEW_ROWS}) THEN "
            f"EXECUTE $statement$ {body} $statement$; ELSE {body}; END IF; RETURN NULL; END $$"
        )
    return statements


def install_sql() -> list[str]:
    """The functions and triggers, and the rollup filled from the rows already there."""
    statements = functions_sql()
    for name, table, event, transition, _body in TRIGGERS:
        function = f"stats_rollup_{name}"
        statements.append(
            f"CREATE TRIGGER {function} AFTER {event} ON {table} "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    statements.append(
        "CREATE OR REPLACE FUNCTION stats_rollup_truncated() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN DELETE FROM {ROLLUP}; RETURN NULL; END $$"
    )
    for table in (PLACEMENT, STUDENT):
        statements.append(
            f"CREATE TRIGGER stats_rollup_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncated()"
        )
    statements.append(rebuild_sql())
    return statements


def uninstall_sql() -> list[str]:
    statements = []
    for name, table, _event, _transition, _body in TRIGGERS:
        statements.append(f"DROP TRIGGER IF EXISTS stats_rollup_{name} ON {table}")
        statements.append(f"DROP FUNCTION IF EXISTS stats_rollup_{name}()")
    for table in (PLACEMENT, STUDENT):
        statements.append(f"DROP TRIGGER IF EXISTS stats_rollup_truncated ON {table}")
    statements.append("DROP FUNCTION IF EXISTS stats_rollup_truncated()")
    return statements


def rebuild_sql() -> str:
    return (
        f"INSERT INTO {ROLLUP} ({KEY}, delta) SELECT {KEY}, SUM(delta) FROM "
        f"({contributions(PLACEMENT, STUDENT, SCHOOL, 1)}) c GROUP BY {KEY} "
        "HAVING SUM(delta) <> 0"
    )


def available() -> bool:
    """Whether this database keeps the rollup (PostgreSQL)."""
    return connection.vendor == "postgresql"


def rebuild() -> None:
    """Recompute the rollup from the rows (after loading data with triggers disabled)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {PLACEMENT}, {STUDENT} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {ROLLUP}")
        cursor.execute(rebuild_sql())


def drift() -> list[tuple[Any, ...]]:
    """Keys where the rollup differs from a recomputation from the rows: (key…, kept, actual).
    Empty when it is exact."""
    statement = (
        f"SELECT {KEY}, COALESCE(r.delta, 0), COALESCE(c.delta, 0) FROM "
        f"(SELECT {KEY}, delta FROM {ROLLUP} WHERE delta <> 0) r FULL JOIN "
        f"(SELECT {KEY}, SUM(delta) AS delta FROM "
        f"({contributions(PLACEMENT, STUDENT, SCHOOL, 1)}) x GROUP BY {KEY} "
        "HAVING SUM(delta) <> 0) c USING (province, grade, sex, birth_date, day) "
        "WHERE r.delta IS DISTINCT FROM c.delta"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return list(cursor.fetchall())
