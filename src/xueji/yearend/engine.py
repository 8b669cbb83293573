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

Graduation (毕业) is at the end of a stage only (xueji.schools.stages: grade 6, 9, 12, …), not
at any school's last grade. The top grade of a school that ends no stage (a 教学点 of grades
1–4) goes on with the promotion to the next grade at the school's central school (中心校), in
the class of the same number there (created when missing), its record's school following; a
school with no central school that takes that grade (an incomplete primary, a central school
closed or not teaching it) keeps its top grade where it is, and the dry run lists those
children for the registrar to resolve (`top_grades_going_on`).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from xueji.changes import services as change_services
from xueji.changes.kinds import spec_of
from xueji.changes.models import ChangeKind, ChangeState
from xueji.schools.stages import ends_stage_sql
from xueji.students import bulk
from xueji.students.bulk import Dialect, dialect
from xueji.students.models import PlacementReason
from xueji.yearend.models import Outcome, RunKind

__all__ = [
    "ChunkJob",
    "Dialect",
    "count_by_school",
    "dialect",
    "in_list",
    "move_chunk",
    "top_grades_going_on",
]

APPROVED = ChangeState.APPROVED.value
REPEAT = ChangeKind.REPEAT.value
SKIP = ChangeKind.SKIP.value

# Candidates of a promotion: grade + 1, or + 0 / + 2 for an approved repeat / skip; a final
# grade moves only to repeat it (the rest of it graduates); never beyond the school's last grade.
# The grades of a repeat and a skip are the changes' specification's (changes/kinds.py).
_DELTA = (
    "(CASE c.kind "
    + " ".join(f"WHEN '{kind}' THEN {spec_of(kind).promotion_grades}" for kind in (REPEAT, SKIP))
    + " ELSE 1 END)"
)
# The school's last grade ends a stage: its pupils graduate (xueji.schools.stages).
_ENDS_STAGE = ends_stage_sql("sc")
# The central school (cs, joined on the school sc's central_school_id) takes the grade after
# the school's last: it is open and teaches it.
_CENTRAL_TAKES = (
    "(cs.id IS NOT NULL AND cs.closed_on IS NULL "
    "AND p.grade + 1 >= cs.first_grade AND p.grade + 1 <= cs.last_grade)"
)
# A candidate of the promotion in the top grade of a school that ends no stage, with no
# approved repeat or skip: it goes on at the central school (the others stay at their school).
_ON_TO_CENTRAL = "(p.grade = sc.last_grade AND c.kind IS NULL)"
_TO_SCHOOL = f"(CASE WHEN {_ON_TO_CENTRAL} THEN sc.central_school_id ELSE p.school_id END)"
_PROMOTION_OUTCOME = (
    f"(CASE WHEN c.kind = '{REPEAT}' THEN '{Outcome.REPEATED}' WHEN c.kind = '{SKIP}' THEN "
    f"'{Outcome.SKIPPED}' WHEN {_ON_TO_CENTRAL} THEN '{Outcome.TO_CENTRAL}' "
    f"ELSE '{Outcome.PROMOTED}' END)"
)
_PROMOTION_FROM = f"""
FROM students_placement p
JOIN students_student s ON s.id = p.student_id
JOIN schools_schoolclass k ON k.id = p.school_class_id
JOIN schools_school sc ON sc.id = p.school_id
LEFT JOIN schools_school cs ON cs.id = sc.central_school_id
LEFT JOIN changes_changerequest c
  ON c.student_id = p.student_id AND c.state = '{APPROVED}' AND c.kind IN ('{REPEAT}', '{SKIP}')
{{join}}
WHERE p.end_date IS NULL AND k.academic_year_id = %(from_year_id)s AND s.state = 'enrolled'
  AND (
    ((p.grade < sc.last_grade OR c.kind = '{REPEAT}') AND p.grade + {_DELTA} <= sc.last_grade)
    OR ({_ON_TO_CENTRAL} AND NOT {_ENDS_STAGE} AND {_CENTRAL_TAKES})
  )
"""
_GRADUATION_FROM = f"""
FROM students_placement p
JOIN students_student s ON s.id = p.student_id
JOIN schools_schoolclass k ON k.id = p.school_class_id
JOIN schools_school sc ON sc.id = p.school_id
LEFT JOIN yearend_outcomeoverride o ON o.student_id = p.student_id AND o.from_year = %(from_start)s
{{join}}
WHERE p.end_date IS NULL AND k.academic_year_id = %(from_year_id)s AND s.state = 'enrolled'
  AND p.grade = sc.last_grade AND {_ENDS_STAGE}
  AND NOT EXISTS (
    SELECT 1 FROM changes_changerequest c
    WHERE c.student_id = p.student_id AND c.state = '{APPROVED}' AND c.kind = '{REPEAT}'
  )
"""


# The class of the same number in the next year (at the central school for those going on
# there), one join more for the promotion's members.
_NEXT_CLASS = f"""JOIN schools_schoolclass nk ON nk.school_id = {_TO_SCHOOL}
  AND nk.academic_year_id = %(to_year_id)s AND nk.grade = p.grade + {_DELTA}
  AND nk.number = k.number"""


# The record event of an outcome: the outcome itself, but going on at the central school is a
# promotion (the record's history shows the school in the placement).
EVENT_OF_OUTCOME = (
    f"(CASE m.outcome WHEN '{Outcome.TO_CENTRAL}' THEN '{Outcome.PROMOTED}' ELSE m.outcome END)"
)


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
    central_detail = {
        "run": str(job.run_id),
        "year": job.from_start + 1,
        "on_to": "central_school",
    }
    promote = job.kind == RunKind.PROMOTE
    mine = "m.run_id = %(run)s AND m.chunk = %(chunk)s"
    with connection.cursor() as cursor:
        # Lock the chunk's schools and the central schools their top grades go on to, in one
        # order: two runs over overlapping scopes take turns per school.
        cursor.execute(
            f"""SELECT id FROM schools_school WHERE id IN {schools} OR id IN (
                    SELECT central_school_id FROM schools_school WHERE id IN {schools})
                ORDER BY id"""
            + (" FOR UPDATE" if d.postgres else ""),
            params,
        )
        if promote:
            # The next year's classes of the same name, created where missing (at the central
            # school for a teaching point's top grade).
            cursor.execute(
                f"""
                INSERT INTO schools_schoolclass (school_id, academic_year_id, grade, number, name)
                SELECT DISTINCT {_TO_SCHOOL}, %(to_year_id)s, p.grade + {_DELTA}, k.number, k.name
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
        bulk.placements_close(
            placement_ids=f"SELECT m.old_placement_id FROM yearend_yearendmember m WHERE {mine}",
            params=params,
            day_param="day",
        )
        if promote:
            # The new class's school: the same, or the central school a top grade goes on to.
            # Still a promotion (PlacementReason.PROMOTION): the child moves up a grade in the
            # school system's own course, neither a transfer (转学, a change of status someone
            # files) nor an entrant of a new stage (INTAKE, counted as 新生).
            bulk.placements_open(
                rows=f"""SELECT m.new_placement_id, m.student_id, nk.school_id, m.new_class_id,
                    m.to_grade, %(day)s FROM yearend_yearendmember m
                    JOIN schools_schoolclass nk ON nk.id = m.new_class_id WHERE {mine}""",
                params=params,
                reason=PlacementReason.PROMOTION,
            )
            bulk.records_follow_placements(
                students=f"""SELECT m.student_id FROM yearend_yearendmember m WHERE {mine}
                    AND m.outcome = '{Outcome.TO_CENTRAL}'""",
                params=params,
            )
            # Approved repeats and skips are done by this promotion: their own workflow's step.
            change_services.deferred_changes_apply(
                students=f"""SELECT m.student_id FROM yearend_yearendmember m WHERE {mine}
                    AND m.outcome IN ('{Outcome.REPEATED}', '{Outcome.SKIPPED}')""",
                params=params,
                on=job.start_date,
                actor=job.actor_id,
            )
        else:
            bulk.states_set_each(
                rows=f"""SELECT m.student_id, m.outcome AS state FROM yearend_yearendmember m
                    WHERE {mine}""",
                params=params,
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
        # The record's event is the outcome; going on at the central school is a promotion
        # whose detail names the school left.
        bulk.events_append(
            rows=f"""SELECT {d.ordered_uuid()}, m.student_id, {EVENT_OF_OUTCOME}, %(day)s,
                %(now)s, %(actor)s, CASE WHEN m.outcome = '{Outcome.TO_CENTRAL}'
                THEN {d.json("%(detail_central)s")} ELSE {d.json("%(detail)s")} END
                FROM yearend_yearendmember m WHERE {mine}""",
            params={**params, "detail_central": json.dumps(central_detail)},
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


@dataclass(frozen=True)
class TopGrade:
    """Children of the top grade of a school that ends no stage, in one class: where they go
    on (the central school) or why they cannot (`reason`, for the registrar to resolve)."""

    school_id: int
    class_id: int
    grade: int
    central_school_id: int | None
    students: int
    reason: str  # "" when the central school takes them

    @property
    def goes_on(self) -> bool:
        return not self.reason


# Why a top grade cannot go on (the dry run names it): the school has no central school (an
# incomplete primary), its central school is closed, or it does not teach the next grade.
NO_CENTRAL_SCHOOL = "no_central_school"
CENTRAL_SCHOOL_CLOSED = "central_school_closed"
CENTRAL_SCHOOL_LACKS_GRADE = "central_school_lacks_grade"


def top_grades_going_on(
    area_sql: str, area_params: dict[str, Any], from_year_id: int
) -> list[TopGrade]:
    """Per class, the enrolled children of the top grade of the schools of an area (a condition
    on `sc`) whose last grade ends no stage, with no approved repeat or skip: they are not
    graduated; the promotion moves those whose central school takes the next grade."""
    params: dict[str, Any] = {"from_year_id": from_year_id, **area_params}
    reason = (
        f"(CASE WHEN cs.id IS NULL THEN '{NO_CENTRAL_SCHOOL}' "
        f"WHEN cs.closed_on IS NOT NULL THEN '{CENTRAL_SCHOOL_CLOSED}' "
        f"WHEN NOT {_CENTRAL_TAKES} THEN '{CENTRAL_SCHOOL_LACKS_GRADE}' ELSE '' END)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.school_id, p.school_class_id, p.grade, sc.central_school_id, {reason},
                COUNT(*)
            FROM students_placement p
            JOIN students_student s ON s.id = p.student_id
            JOIN schools_schoolclass k ON k.id = p.school_class_id
            JOIN schools_school sc ON sc.id = p.school_id
            LEFT JOIN schools_school cs ON cs.id = sc.central_school_id
            WHERE p.end_date IS NULL AND k.academic_year_id = %(from_year_id)s
              AND s.state = 'enrolled' AND p.grade = sc.last_grade AND NOT {_ENDS_STAGE}
              AND NOT EXISTS (
                SELECT 1 FROM changes_changerequest c WHERE c.student_id = p.student_id
                  AND c.state = '{APPROVED}' AND c.kind IN ('{REPEAT}', '{SKIP}'))
              AND {area_sql}
            GROUP BY p.school_id, p.school_class_id, p.grade, sc.central_school_id, {reason}
            ORDER BY p.school_id, p.school_class_id
            """,
            params,
        )
        return [
            TopGrade(
                school_id=int(school),
                class_id=int(school_class),
                grade=int(grade),
                central_school_id=None if central is None else int(central),
                students=int(count),
                reason=str(why),
            )
            for school, school_class, grade, central, why, count in cursor.fetchall()
        ]
