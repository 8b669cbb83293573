"""The set-based statements of a year-end run, for one chunk of schools at a time.

A chunk is moved by a fixed handful of statements whatever its size: the students it moves are
written first as member rows of the run (with the placement each one leaves and, for a
promotion, the id of the one it gets), and every other write is a join on those rows: the
next year's classes of the same name (created when missing), the old placements closed on the
first day of the new year (half-open: end_date = the new start_date), the new placements, the
record events, the approved repeats and skips completed, the states of graduates, their
diplomas. Nothing goes through Python row by row, so memory stays flat at any size.

Selection is by the data, not by the plan: a student is moved when the open placement lies in
a class of the year being left, the record is enrolled, and the school is in the chunk. A
second run finds nobody to move (idempotent), and a chunk rolled back by a crash is found again
when the run resumes.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from xueji.yearend.models import Outcome, RunKind

APPROVED = "approved"  # xueji.changes ChangeState.APPROVED (contract)
COMPLETED = "completed"
REPEAT = "repeat"
SKIP = "skip"
PROMOTION_REASON = "promotion"

# Candidates of a promotion: grade + 1, or + 0 / + 2 for an approved repeat / skip; a final
# grade moves only to repeat it (the rest of it graduates); never beyond the school's last grade.
_DELTA = f"(CASE c.kind WHEN '{REPEAT}' THEN 0 WHEN '{SKIP}' THEN 2 ELSE 1 END)"
_PROMOTION_OUTCOME = (
    f"(CASE c.kind WHEN '{REPEAT}' THEN '{Outcome.REPEATED}' WHEN '{SKIP}' THEN "
    f"'{Outcome.SKIPPED}' ELSE '{Outcome.PROMOTED}' END)"
)
_PROMOTION_FROM = f"""
FROM students_placement p
JOIN students_student s ON s.id = p.student_id
JOIN schools_schoolclass k ON k.id = p.school_class_id
JOIN schools_school sc ON sc.id = p.school_id
LEFT JOIN changes_changerequest c
  ON c.student_id = p.student_id AND c.state = '{APPROVED}' AND c.kind IN ('{REPEAT}', '{SKIP}')
{{join}}
WHERE p.end_date IS NULL AND k.academic_year_id = %(from_year_id)s AND s.state = 'enrolled'
  AND (p.grade < sc.last_grade OR c.kind = '{REPEAT}')
  AND p.grade + {_DELTA} <= sc.last_grade
"""
_GRADUATION_FROM = f"""
FROM students_placement p
JOIN students_student s ON s.id = p.student_id
JOIN schools_schoolclass k ON k.id = p.school_class_id
JOIN schools_school sc ON sc.id = p.school_id
LEFT JOIN yearend_outcomeoverride o ON o.student_id = p.student_id AND o.from_year = %(from_start)s
{{join}}
WHERE p.end_date IS NULL AND k.academic_year_id = %(from_year_id)s AND s.state = 'enrolled'
  AND p.grade = sc.last_grade
  AND NOT EXISTS (
    SELECT 1 FROM changes_changerequest c
    WHERE c.student_id = p.student_id AND c.state = '{APPROVED}' AND c.kind = '{REPEAT}'
  )
"""


# The class of the same number in the next year, one join more for the promotion's members.
_NEXT_CLASS = f"""JOIN schools_schoolclass nk ON nk.school_id = p.school_id
  AND nk.academic_year_id = %(to_year_id)s AND nk.grade = p.grade + {_DELTA}
  AND nk.number = k.number"""


def candidates_from(kind: str, join: str = "") -> str:
    """The FROM … WHERE of the students a run of this kind moves (aliases p, s, k, sc)."""
    sql = _PROMOTION_FROM if kind == RunKind.PROMOTE else _GRADUATION_FROM
    return sql.replace("{join}", join)


def outcome_expression(kind: str) -> str:
    return (
        _PROMOTION_OUTCOME
        if kind == RunKind.PROMOTE
        else f"COALESCE(o.outcome, '{Outcome.GRADUATED}')"
    )


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """An IN (…) of named parameters (the same SQL on both databases)."""
    names = {f"{name}_{i}": value for i, value in enumerate(values)}
    return "(" + ", ".join(f"%({n})s" for n in names) + ")", names


@dataclass(frozen=True)
class Dialect:
    postgres: bool

    def new_uuid(self) -> str:
        # SQLite keeps a UUIDField as 32 hex digits.
        return "gen_random_uuid()" if self.postgres else "lower(hex(randomblob(16)))"

    def ordered_uuid(self) -> str:
        """A time-ordered UUID (version 7 layout) for the keys of rows written by the million:
        their primary-key index grows at its right edge instead of being dirtied all over."""
        if not self.postgres:
            return self.new_uuid()
        return (
            "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
            "substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) "
            "FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"
        )

    def uuid(self, value: uuid.UUID) -> Any:
        return value if self.postgres else value.hex

    def json(self, placeholder: str) -> str:
        return f"CAST({placeholder} AS jsonb)" if self.postgres else placeholder

    def date(self, value: datetime.date) -> Any:
        return value if self.postgres else value.isoformat()

    def now(self) -> Any:
        now = timezone.now()
        return now if self.postgres else connection.ops.adapt_datetimefield_value(now)


def dialect() -> Dialect:
    return Dialect(postgres=connection.vendor == "postgresql")


@dataclass(frozen=True)
class ChunkJob:
    run_id: uuid.UUID
    kind: str
    chunk: int
    school_ids: Sequence[int]
    from_start: int
    from_year_id: int
    to_year_id: int
    start_date: datetime.date  # the first day of the new year: end of the old placements
    actor_id: int | None


def move_chunk(job: ChunkJob) -> int:
    """Move the students of one chunk of schools; the caller holds the transaction."""
    d = dialect()
    schools, school_params = in_list("school", job.school_ids)
    params: dict[str, Any] = {
        "run": d.uuid(job.run_id),
        "chunk": job.chunk,
        "from_start": job.from_start,
        "from_year_id": job.from_year_id,
        "to_year_id": job.to_year_id,
        "day": d.date(job.start_date),
        "now": d.now(),
        "actor": job.actor_id,
        "detail": json.dumps({"run": str(job.run_id), "year": job.from_start + 1}),
        **school_params,
    }
    promote = job.kind == RunKind.PROMOTE
    mine = "m.run_id = %(run)s AND m.chunk = %(chunk)s"
    with connection.cursor() as cursor:
        # Lock the chunk's schools: two runs over overlapping scopes take turns per school.
        cursor.execute(
            f"SELECT id FROM schools_school WHERE id IN {schools} ORDER BY id"
            + (" FOR UPDATE" if d.postgres else ""),
            params,
        )
        if promote:
            # The next year's classes of the same name, created where missing.
            cursor.execute(
                f"""
                INSERT INTO schools_schoolclass (school_id, academic_year_id, grade, number, name)
                SELECT DISTINCT p.school_id, %(to_year_id)s, p.grade + {_DELTA}, k.number, k.name
                {candidates_from(job.kind)} AND p.school_id IN {schools}
                ON CONFLICT (school_id, academic_year_id, grade, number) DO NOTHING
                """,
                params,
            )
        cursor.execute(
            f"""
            INSERT INTO yearend_yearendmember (run_id, chunk, student_id, school_id, from_grade,
                to_grade, outcome, old_placement_id, new_placement_id, new_class_id)
            SELECT %(run)s, %(chunk)s, p.student_id, p.school_id, p.grade,
                {"p.grade + " + _DELTA if promote else "NULL"}, {outcome_expression(job.kind)},
                p.id, {d.ordered_uuid() if promote else "NULL"}, {"nk.id" if promote else "NULL"}
            {candidates_from(job.kind, _NEXT_CLASS if promote else "")}
              AND p.school_id IN {schools}
            """,
            params,
        )
        moved = cursor.rowcount
        if moved == 0:
            return 0
        # Close the old placements before the new ones open (one open placement per student).
        cursor.execute(
            f"""
            UPDATE students_placement SET end_date = %(day)s
            WHERE id IN (SELECT m.old_placement_id FROM yearend_yearendmember m WHERE {mine})
            """,
            params,
        )
        if promote:
            cursor.execute(
                f"""
                INSERT INTO students_placement (id, student_id, school_id, school_class_id, grade,
                    start_date, end_date, reason)
                SELECT m.new_placement_id, m.student_id, m.school_id, m.new_class_id, m.to_grade,
                    %(day)s, NULL, '{PROMOTION_REASON}'
                FROM yearend_yearendmember m
                WHERE {mine}
                """,
                params,
            )
            cursor.execute(
                f"""
                UPDATE changes_changerequest SET state = '{COMPLETED}', completed_at = %(now)s,
                    effective_date = %(day)s, updated_at = %(now)s
                WHERE state = '{APPROVED}' AND kind IN ('{REPEAT}', '{SKIP}') AND student_id IN (
                    SELECT m.student_id FROM yearend_yearendmember m
                    WHERE {mine} AND m.outcome IN ('{Outcome.REPEATED}', '{Outcome.SKIPPED}'))
                """,
                params,
            )
        else:
            cursor.execute(
                f"""
                UPDATE students_student SET state = (
                    SELECT m.outcome FROM yearend_yearendmember m
                    WHERE {mine} AND m.student_id = students_student.id), updated_at = %(now)s
                WHERE id IN (SELECT m.student_id FROM yearend_yearendmember m WHERE {mine})
                """,
                params,
            )
            # Diplomas numbered per school and year, after the ones the school already has.
            cursor.execute(
                f"""
                INSERT INTO yearend_diploma (id, student_id, school_id, from_year, number, kind,
                    run_id, created_at)
                SELECT {d.new_uuid()}, m.student_id, m.school_id, %(from_start)s,
                    COALESCE((SELECT MAX(x.number) FROM yearend_diploma x
                              WHERE x.school_id = m.school_id AND x.from_year = %(from_start)s), 0)
                    + ROW_NUMBER() OVER (PARTITION BY m.school_id
                                         ORDER BY s.name_pinyin, m.student_id),
                    m.outcome, %(run)s, %(now)s
                FROM yearend_yearendmember m JOIN students_student s ON s.id = m.student_id
                WHERE {mine} AND m.outcome IN ('{Outcome.GRADUATED}', '{Outcome.COMPLETED}')
                """,
                params,
            )
        cursor.execute(
            f"""
            INSERT INTO students_recordevent (id, student_id, kind, occurred_on, recorded_at,
                actor_id, detail)
            SELECT {d.ordered_uuid()}, m.student_id, m.outcome, %(day)s, %(now)s, %(actor)s,
                {d.json("%(detail)s")}
            FROM yearend_yearendmember m WHERE {mine}
            """,
            params,
        )
    return moved


def count_by_school(
    kind: str, area_sql: str, area_params: dict[str, Any], from_year_id: int, from_start: int
) -> list[tuple[int, int, str, int]]:
    """(school, grade, outcome, students) a run would move in an area (a condition on the
    school `sc`): the dry run's figures."""
    params: dict[str, Any] = {"from_year_id": from_year_id, "from_start": from_start, **area_params}
    outcome = outcome_expression(kind)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.school_id, p.grade, {outcome}, COUNT(*)
            {candidates_from(kind)} AND {area_sql}
            GROUP BY p.school_id, p.grade, {outcome}
            ORDER BY p.school_id, p.grade
            """,
            params,
        )
        return [(int(a), int(b), str(c), int(n)) for a, b, c, n in cursor.fetchall()]
