"""Money that follows the record (issue 23) on PostgreSQL: a province's census allocation and
its consistency checks over a stretch of school days of meals and attendance, each against the
bare SQL computing the same sums in the same run.

After synth (the province's children placed at their schools), the bench writes set-based:
the funding rates and the meals programme (every county of the province), the school days' roll
(one roll call per class and day), about 3% of the children absent each day (whole day), the
canteens' days and who ate (the children present, as the canteen's default records them), and a
few injected faults: meals for absent children, a hollow record flag for 0.2% of the children.

- allocation: `xueji.welfare.funding.allocation` for the province (census by school and stage
  from the placement history, times the dated rates) vs one SQL statement computing the same
  amounts per school (checked equal);
- checks: `xueji.welfare.checks.checks_run` for the province's bureau over the term (meals for
  absent, not enrolled, non-school days, hollow records drawing funding or meals) vs bare SQL
  computing the same sets (the children of each finding kind, checked equal).

`python -m bench.funding --students 50000 --days 10` runs it alone on a fresh database.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.users import PROVINCE

FIRST_DAY = datetime.date(2026, 9, 7)  # a Monday of the autumn term 2026
ABSENT_PERCENT = 3
REPEATS = 3


ROLL_SQL = """
INSERT INTO attendance_rollcall
  (school_class_id, school_id, day, enrolled, absent, source, taken_at, changed_at)
SELECT c.id, c.school_id, %s, 0, 0, 'api', now(), now()
FROM schools_schoolclass c JOIN schools_school s ON s.id = c.school_id
WHERE s.province_id = %s
ON CONFLICT DO NOTHING
"""
ABSENT_SQL = """
INSERT INTO attendance_absence
  (student_id, school_class_id, school_id, day, portion, reason, symptom, note)
SELECT p.student_id, p.school_class_id, p.school_id, %s, 'full', 'personal', '', ''
FROM students_placement p JOIN schools_school s ON s.id = p.school_id
WHERE s.province_id = %s AND p.start_date <= %s AND (p.end_date IS NULL OR p.end_date > %s)
  AND abs(hashtext(p.student_id::text || %s)) %% 100 < %s
ON CONFLICT DO NOTHING
"""
MEAL_DAY_SQL = """
INSERT INTO welfare_mealday
  (id, school_id, day, menu, companions, daily_fen, recorded_by_id, recorded_at)
SELECT gen_random_uuid(), s.id, %%s, '米饭、青菜、鸡蛋', '陪餐教师', 500, %%s, now()
FROM schools_school s WHERE s.province_id = %%s AND s.kind IN %(kinds)s
"""
MEALS_SQL = """
INSERT INTO welfare_mealserved (meal_day_id, student_id, school_id, school_class_id, day)
SELECT m.id, p.student_id, p.school_id, p.school_class_id, %s
FROM students_placement p JOIN welfare_mealday m ON m.school_id = p.school_id AND m.day = %s
WHERE p.start_date <= %s AND (p.end_date IS NULL OR p.end_date > %s)
  AND NOT EXISTS (SELECT 1 FROM attendance_absence a
                  WHERE a.student_id = p.student_id AND a.day = %s AND a.portion = 'full')
"""


def school_days(days: int) -> list[datetime.date]:
    found: list[datetime.date] = []
    day = FIRST_DAY
    while len(found) < days:
        if day.weekday() < 5 and day != datetime.date(2026, 10, 1):
            found.append(day)
        day += datetime.timedelta(days=1)
    return found


def prepare(days: list[datetime.date]) -> dict[str, Any]:
    """Terms, rates, the meals programme, the roll, absences, meals and the injected faults."""
    from django.db import connection, transaction

    from xueji.access.tests.world import ensure_terms
    from xueji.schools.models import UrbanRural
    from xueji.welfare.models import FundingRate, MealCounty, MealRate

    ensure_terms(2026)
    started = time.perf_counter()
    with transaction.atomic():
        for stage, fen in (("primary", 72000), ("junior", 92000), ("senior", 100000)):
            FundingRate.objects.get_or_create(
                province=None,
                stage=stage,
                component="benchmark",
                valid_from=datetime.date(2020, 1, 1),
                defaults={"yearly_fen": fen},
            )
            FundingRate.objects.get_or_create(
                province_id=PROVINCE,
                stage=stage,
                component="topup",
                valid_from=datetime.date(2020, 1, 1),
                defaults={"yearly_fen": 8000},
            )
            FundingRate.objects.get_or_create(
                province=None,
                stage=stage,
                component="boarding",
                valid_from=datetime.date(2020, 1, 1),
                defaults={"yearly_fen": 20000},
            )
        MealRate.objects.get_or_create(
            valid_from=datetime.date(2021, 9, 1), defaults={"daily_fen": 500}
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT county_id FROM schools_school WHERE province_id = %s", [PROVINCE]
            )
            counties = [row[0] for row in cursor.fetchall()]
        codes = [*UrbanRural.values, ""]
        for county in counties:
            MealCounty.objects.get_or_create(
                county_id=county,
                defaults={"since": datetime.date(2026, 9, 1), "urban_rural": codes},
            )
    from django.contrib.auth import get_user_model

    canteen = get_user_model().objects.get_or_create(username="bench_canteen")[0]
    kinds = "('primary', 'junior', 'nine_year', 'teaching_point', 'special')"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        for day in days:
            # The roll of every class of the province that day; about 3% of the placed
            # children absent the whole day; the canteens of the compulsory schools and who
            # ate: the children present.
            cursor.execute(ROLL_SQL, [day, PROVINCE])
            cursor.execute(ABSENT_SQL, [day, PROVINCE, day, day, day.isoformat(), ABSENT_PERCENT])
            cursor.execute(MEAL_DAY_SQL % {"kinds": kinds}, [day, canteen.pk, PROVINCE])
            cursor.execute(MEALS_SQL, [day, day, day, day, day])
        # Faults: meals recorded for 1 in 20 of the absent children on the first day.
        cursor.execute(
            "INSERT INTO welfare_mealserved (meal_day_id, student_id, school_id, school_class_id,"
            " day) SELECT m.id, a.student_id, a.school_id, a.school_class_id, a.day FROM"
            " attendance_absence a JOIN welfare_mealday m ON m.school_id = a.school_id AND m.day ="
            " a.day WHERE a.day = %s AND abs(hashtext(a.student_id::text)) %% 20 = 0"
            " ON CONFLICT DO NOTHING",
            [days[0]],
        )
        # Hollow records: 0.2% of the children flagged from the term's start.
        cursor.execute(
            "INSERT INTO attendance_hollowperiod (student_id, school_id, start_date, end_date)"
            " SELECT p.student_id, p.school_id, '2026-09-01', NULL FROM students_placement p"
            " WHERE p.end_date IS NULL AND abs(hashtext(p.student_id::text || 'h')) %% 500 = 0"
            " ON CONFLICT DO NOTHING",
            [],
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM welfare_mealserved")
        meals = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM attendance_absence")
        absences = cursor.fetchone()[0]
    return {"seconds": time.perf_counter() - started, "meals": meals, "absences": absences}


BARE_ALLOCATION = """
WITH census AS (
  SELECT p.school_id, s.kind, CASE WHEN p.grade BETWEEN 1 AND 6 THEN 'primary'
         WHEN p.grade BETWEEN 7 AND 9 THEN 'junior' ELSE 'senior' END AS stage,
         COUNT(*) AS pupils, COUNT(*) FILTER (WHERE st.attendance_mode = '2') AS boarders
  FROM students_placement p JOIN schools_school s ON s.id = p.school_id
  JOIN students_student st ON st.id = p.student_id
  WHERE s.province_id = %(province)s AND p.grade >= 1 AND p.start_date <= %(day)s
    AND (p.end_date IS NULL OR p.end_date > %(day)s)
  GROUP BY 1, 2, 3
), rate AS (
  SELECT DISTINCT ON (province_id, stage, component) province_id, stage, component, yearly_fen
  FROM welfare_fundingrate WHERE valid_from <= %(day)s
  ORDER BY province_id, stage, component, valid_from DESC
)
SELECT c.school_id, SUM((
    (COALESCE((SELECT yearly_fen FROM rate WHERE province_id IS NULL AND stage = c.stage
               AND component = 'benchmark'), 0)
     + COALESCE((SELECT yearly_fen FROM rate WHERE province_id = %(province)s AND stage = c.stage
               AND component = 'topup'), 0)) * c.pupils
    + COALESCE((SELECT yearly_fen FROM rate WHERE province_id IS NULL AND stage = c.stage
               AND component = 'boarding'), 0) * c.boarders + 1) / 2)
FROM census c GROUP BY 1
"""

BARE_CHECKS = {
    "meal_absent": """
      SELECT DISTINCT m.student_id FROM welfare_mealserved m
      JOIN schools_school s ON s.id = m.school_id
      JOIN attendance_absence a ON a.student_id = m.student_id AND a.day = m.day
        AND a.school_class_id = m.school_class_id AND a.portion = 'full'
      WHERE s.province_id = %(province)s AND m.day BETWEEN %(start)s AND %(end)s""",
    "meal_not_enrolled": """
      SELECT DISTINCT m.student_id FROM welfare_mealserved m
      JOIN schools_school s ON s.id = m.school_id
      WHERE s.province_id = %(province)s AND m.day BETWEEN %(start)s AND %(end)s
        AND NOT EXISTS (SELECT 1 FROM students_placement p WHERE p.student_id = m.student_id
          AND p.school_id = m.school_id AND p.start_date <= m.day
          AND (p.end_date IS NULL OR p.end_date > m.day))""",
    "hollow_drew_money": """
      SELECT DISTINCT h.student_id FROM attendance_hollowperiod h
      JOIN schools_school s ON s.id = h.school_id
      WHERE s.province_id = %(province)s AND (
        EXISTS (SELECT 1 FROM students_placement p WHERE p.student_id = h.student_id
          AND p.start_date <= %(census)s AND (p.end_date IS NULL OR p.end_date > %(census)s)
          AND h.start_date <= %(census)s
          AND (h.end_date IS NULL OR h.end_date > %(census)s))
        OR EXISTS (SELECT 1 FROM welfare_mealserved m WHERE m.student_id = h.student_id
          AND m.day BETWEEN %(start)s AND %(end)s AND h.start_date <= m.day
          AND (h.end_date IS NULL OR h.end_date > m.day)))""",
}


def _timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def run(days: int = 10) -> dict[str, Any]:
    from django.db import connection

    from bench.users import province_member
    from xueji.access.models import Role
    from xueji.access.scope import scope_of
    from xueji.schools.models import Term
    from xueji.welfare import checks, funding
    from xueji.welfare.models import Finding

    chosen = school_days(days)
    prepared = prepare(chosen)
    term = Term.objects.get(academic_year__start_year=2026, number=1)
    viewer = province_member("bench_welfare", Role.BUREAU_APPROVER)
    scope = scope_of(viewer)
    census = funding.census_date_of(term)

    def bare_allocation() -> dict[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(BARE_ALLOCATION, {"province": PROVINCE, "day": census})
            return {school: int(amount) for school, amount in cursor.fetchall()}

    ours_times, bare_times = [], []
    for _ in range(REPEATS):
        seconds, ours = _timed(lambda: funding.allocation(term, scope))
        ours_times.append(seconds)
        seconds, bare = _timed(bare_allocation)
        bare_times.append(seconds)
    ours_amounts = {s.school_id: s.amount_fen for s in ours.schools}
    assert ours_amounts == bare, "the allocation differs from the bare SQL's"

    params = {
        "province": PROVINCE,
        "start": term.start_date,
        "end": term.end_date,
        "census": census,
    }

    def bare_checks() -> dict[str, set[str]]:
        found = {}
        with connection.cursor() as cursor:
            for kind, sql in BARE_CHECKS.items():
                cursor.execute(sql, params)
                found[kind] = {str(row[0]) for row in cursor.fetchall()}
        return found

    check_times, bare_check_times = [], []
    for _ in range(REPEATS):
        seconds, _run = _timed(lambda: checks.checks_run(actor=viewer, scope=scope, term=term))
        check_times.append(seconds)
        seconds, bare_found = _timed(bare_checks)
        bare_check_times.append(seconds)
    ours_found: dict[str, set[str]] = {}
    for finding in Finding.objects.filter(term=term, still_found=True):
        ours_found.setdefault(finding.kind, set()).update(finding.student_ids)
    differing = sorted(
        kind for kind, children in bare_found.items() if ours_found.get(kind, set()) != children
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM students_placement WHERE end_date IS NULL")
        placed = cursor.fetchone()[0]
    allocation_p50 = statistics.median(ours_times)
    bare_p50 = statistics.median(bare_times)
    checks_p50 = statistics.median(check_times)
    bare_checks_p50 = statistics.median(bare_check_times)
    return {
        "children_placed": placed,
        "school_days": days,
        "prepare_seconds": prepared["seconds"],
        "meals": prepared["meals"],
        "absences": prepared["absences"],
        "schools": len(ours.schools),
        "allocation_fen": ours.amount_fen,
        "allocation_seconds": allocation_p50,
        "allocation_bare_seconds": bare_p50,
        "allocation_ratio": allocation_p50 / bare_p50,
        "checks_seconds": checks_p50,
        "checks_bare_seconds": bare_checks_p50,
        "checks_ratio": checks_p50 / bare_checks_p50,
        "findings": {kind: len(children) for kind, children in ours_found.items()},
        "bare_findings": {kind: len(children) for kind, children in bare_found.items()},
        "checks_equal": not differing,
        "checks_differing": differing,
    }


def rows(results: dict[str, Any]) -> list[str]:
    return [
        f"{results['children_placed']:,} children, {results['schools']:,} schools, "
        f"{results['school_days']} school days, {results['meals']:,} meals, "
        f"{results['absences']:,} absences (prepared in {results['prepare_seconds']:.1f} s)",
        f"allocation: xueji {results['allocation_seconds']:.2f} s vs bare SQL "
        f"{results['allocation_bare_seconds']:.2f} s = {results['allocation_ratio']:.2f}×",
        f"checks: xueji {results['checks_seconds']:.2f} s vs bare SQL "
        f"{results['checks_bare_seconds']:.2f} s = {results['checks_ratio']:.2f}×",
        f"findings (children): {results['findings']}; bare SQL: {results['bare_findings']}; "
        f"equal: {results['checks_equal']}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.funding", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from bench import database

    with database.django_on(
        database.bench_url(), fresh=True, keep=args.keep_database, migrate=True
    ):
        from bench import load

        print(f"Synth: {args.students:,} students", flush=True)
        load.run_synth(args.students, args.seed)
        load.checkpoint()
        print(f"Funding and checks over {args.days} school days", flush=True)
        results = run(args.days)
    out = args.output / f"funding-{args.students}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    for line in rows(results):
        print(line)
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
