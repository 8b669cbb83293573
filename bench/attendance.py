"""Daily attendance (xueji.attendance) on PostgreSQL against hand-written SQL and a bare COPY.

After synth (a province's children in classes), with a term of history written set-based (every
class's roll on every school day from 1 September, about 5% absent) and the daily scan run:

- roll by the service: a school day's roll of every class taken class by class by 8 concurrent
  teachers through `roll_take` (the school's registrar stands in for each class teacher: the same
  checks, calendar, correction window, audit), ~5% absent;
- baseline: the same transactions (the class-day row and the class's absences, one transaction per
  class) as hand-written SQL by 8 concurrent connections, on the next school day;
- the card system's CSV of a third day, school by school through `roll_import_csv` (numbers
  resolved, each class-day taken as its whole roll), against a bare COPY of the same rows into a
  plain table;
- the principal's morning page (GET, rendered) and a county's rates (one month: `county_rates`;
  the rates page: six months) p50/p95;
- storage: rows and bytes of the roll's tables for the term, projected to 190 school days,
  against one row per child per day (a table of that shape filled for one day, then ×190).

`python -m bench.attendance --students 100000` runs it on a fresh database of its own
(BENCH_DATABASE_URL, else xueji_bench on the local server) and writes attendance-<n>.json.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import queue
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

WORKERS = 8
ABSENT_SHARE = 0.05
HISTORY_FROM = datetime.date(2026, 9, 1)
# Four school days (Tuesday to Friday) of November 2026: history ends the day before the first.
DAY_SERVICE = datetime.date(2026, 11, 17)
DAY_SQL = datetime.date(2026, 11, 18)
DAY_CSV = datetime.date(2026, 11, 19)
DAY_PAGES = DAY_CSV
REASONS = ["sick", "sick", "personal", "unexcused"]
SYMPTOMS = ["fever", "cough", "diarrhoea", "rash", "other"]


def _set_today(day: datetime.date) -> None:
    from django.utils import timezone

    timezone.localdate = lambda value=None, timezone=None: day  # type: ignore[assignment]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def _timing(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": statistics.median(values) * 1000,
        "p95_ms": _pct(values, 0.95) * 1000,
    }


def _registrars() -> dict[int, Any]:
    """One registrar per school (made set-based), by school id."""
    from django.contrib.auth import get_user_model

    from xueji.access.models import Membership, Role, ScopeLevel
    from xueji.schools.models import School

    users = get_user_model()
    schools = list(School.objects.values_list("pk", flat=True))
    users.objects.bulk_create(
        [users(username=f"bench_att_reg_{pk}") for pk in schools], ignore_conflicts=True
    )
    by_name = dict(
        users.objects.filter(username__startswith="bench_att_reg_").values_list("username", "pk")
    )
    Membership.objects.bulk_create(
        [
            Membership(
                user_id=by_name[f"bench_att_reg_{pk}"],
                role=Role.REGISTRAR,
                scope_level=ScopeLevel.SCHOOL,
                school_id=pk,
            )
            for pk in schools
        ],
        ignore_conflicts=True,
    )
    found = {u.pk: u for u in users.objects.filter(pk__in=by_name.values())}
    return {pk: found[by_name[f"bench_att_reg_{pk}"]] for pk in schools}


def _classes() -> dict[int, tuple[int, list[Any]]]:
    """class id → (school id, the children placed in it now)."""
    from xueji.students.models import Placement

    classes: dict[int, tuple[int, list[Any]]] = {}
    for class_id, school_id, student_id in Placement.objects.filter(
        end_date__isnull=True
    ).values_list("school_class_id", "school_id", "student_id"):
        classes.setdefault(class_id, (school_id, []))[1].append(student_id)
    return classes


def _absences(rng: random.Random, children: list[Any]) -> list[tuple[Any, str, str]]:
    chosen = [c for c in children if rng.random() < ABSENT_SHARE]
    out = []
    for child in chosen:
        reason = rng.choice(REASONS)
        out.append((child, reason, rng.choice(SYMPTOMS) if reason == "sick" else ""))
    return out


def history(until: datetime.date) -> dict[str, Any]:
    """A term of rolls written set-based: every class on every school day from 1 September to
    `until`, ~5% of children absent whole days (reasons and symptoms mixed)."""
    from django.db import connection

    from xueji.attendance.calendar import school_days
    from xueji.schools.models import School

    school = School.objects.first()
    assert school is not None
    days = school_days(school, HISTORY_FROM, until)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_days (day date)")
        cursor.executemany("INSERT INTO bench_days VALUES (%s)", [(d,) for d in days])
        cursor.execute(
            "INSERT INTO attendance_rollcall (school_class_id, school_id, day, enrolled, absent, "
            "source, taken_at, changed_at) "
            "SELECT c.school_class_id, c.school_id, d.day, c.n, 0, 'page', now(), now() "
            "FROM (SELECT school_class_id, school_id, COUNT(*) AS n FROM students_placement "
            "      WHERE end_date IS NULL GROUP BY 1, 2) c CROSS JOIN bench_days d"
        )
        rolls = cursor.rowcount
        cursor.execute(
            "INSERT INTO attendance_absence (student_id, school_class_id, school_id, day, portion, "
            "reason, symptom, note) "
            "SELECT x.student_id, x.school_class_id, x.school_id, x.day, 'full', x.reason, "
            "CASE WHEN x.reason = 'sick' THEN (ARRAY['fever','cough','diarrhoea','rash','other'])"
            "[1 + floor(random() * 5)::int] ELSE '' END, '' "
            "FROM (SELECT p.student_id, p.school_class_id, p.school_id, d.day, "
            "      (ARRAY['sick','sick','personal','unexcused'])[1 + floor(random() * 4)::int] "
            "      AS reason "
            "      FROM students_placement p CROSS JOIN bench_days d "
            "      WHERE p.end_date IS NULL AND random() < %s) x",
            [ABSENT_SHARE],
        )
        absences = cursor.rowcount
        cursor.execute(
            "UPDATE attendance_rollcall r SET absent = a.n FROM (SELECT school_class_id, day, "
            "COUNT(*) AS n FROM attendance_absence GROUP BY 1, 2) a "
            "WHERE a.school_class_id = r.school_class_id AND a.day = r.day"
        )
        cursor.execute("DROP TABLE bench_days")
        cursor.execute("ANALYZE attendance_rollcall")
        cursor.execute("ANALYZE attendance_absence")
    return {
        "school_days": len(days),
        "rolls": rolls,
        "absences": absences,
        "seconds": time.perf_counter() - started,
    }


def _concurrently(work: list[Any], job: Any) -> float:
    """Run `job(item)` over `work` in WORKERS threads (each with its own connection)."""
    from django.db import connections

    tasks: queue.Queue[Any] = queue.Queue()
    for item in work:
        tasks.put(item)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while True:
                try:
                    item = tasks.get_nowait()
                except queue.Empty:
                    return
                job(item)
        except BaseException as problem:  # reported after the run
            errors.append(problem)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return seconds


def roll_by_service(
    classes: dict[int, tuple[int, list[Any]]], registrars: dict[int, Any], seed: int
) -> dict[str, Any]:
    from xueji.attendance.services import AbsenceIn, roll_take

    rng = random.Random(seed)
    work = [
        (class_id, school_id, _absences(rng, children))
        for class_id, (school_id, children) in classes.items()
    ]
    _set_today(DAY_SERVICE)

    def job(item: Any) -> None:
        class_id, school_id, absent = item
        roll_take(
            actor=registrars[school_id],
            school_class_id=class_id,
            day=DAY_SERVICE,
            absences=[AbsenceIn(sid, reason, symptom=symptom) for sid, reason, symptom in absent],
        )

    seconds = _concurrently(work, job)
    return {
        "classes": len(work),
        "absences": sum(len(w[2]) for w in work),
        "seconds": seconds,
    }


def roll_by_sql(classes: dict[int, tuple[int, list[Any]]], seed: int) -> dict[str, Any]:
    from django.db import connection, transaction

    rng = random.Random(seed)
    work = [
        (class_id, school_id, len(children), _absences(rng, children))
        for class_id, (school_id, children) in classes.items()
    ]

    def job(item: Any) -> None:
        class_id, school_id, enrolled, absent = item
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO attendance_rollcall (school_class_id, school_id, day, enrolled, "
                "absent, source, taken_at, changed_at) VALUES (%s, %s, %s, %s, %s, 'sql', now(), "
                "now()) ON CONFLICT (school_class_id, day) DO NOTHING",
                [class_id, school_id, DAY_SQL, enrolled, len(absent)],
            )
            if absent:
                cursor.executemany(
                    "INSERT INTO attendance_absence (student_id, school_class_id, school_id, day, "
                    "portion, reason, symptom, note) VALUES (%s, %s, %s, %s, 'full', %s, %s, '')",
                    [(sid, class_id, school_id, DAY_SQL, r, s) for sid, r, s in absent],
                )

    seconds = _concurrently(work, job)
    return {"classes": len(work), "absences": sum(len(w[3]) for w in work), "seconds": seconds}


def csv_day(
    classes: dict[int, tuple[int, list[Any]]],
    registrars: dict[int, Any],
    seed: int,
    schools: int = 0,
) -> dict[str, Any]:
    """The card systems' files of a day, school by school, vs a bare COPY of the same rows."""
    from django.db import connection

    from xueji.attendance.services import roll_import_csv
    from xueji.students.models import Student

    rng = random.Random(seed)
    by_school: dict[int, list[tuple[int, list[tuple[Any, str, str]]]]] = {}
    for class_id, (school_id, children) in classes.items():
        by_school.setdefault(school_id, []).append((class_id, _absences(rng, children)))
    if schools:  # the first N schools' files only (the others' would be alike)
        by_school = dict(sorted(by_school.items())[:schools])
    ids = [sid for rows in by_school.values() for _c, absent in rows for sid, _r, _s in absent]
    numbers = {
        s.pk: s.reveal_student_number()
        for s in Student.objects.filter(pk__in=ids).only("pk", "number_sealed")
    }
    files: dict[int, list[dict[str, str]]] = {}
    for school_id, rows in by_school.items():
        lines = []
        for class_id, absent in rows:
            if not absent:
                lines.append(
                    {"date": DAY_CSV.isoformat(), "class_id": str(class_id), "student_number": ""}
                )
            for sid, reason, symptom in absent:
                lines.append(
                    {
                        "date": DAY_CSV.isoformat(),
                        "class_id": str(class_id),
                        "student_number": numbers[sid],
                        "portion": "full",
                        "reason": reason,
                        "symptom": symptom,
                        "note": "",
                    }
                )
        files[school_id] = lines
    _set_today(DAY_CSV)
    started = time.perf_counter()
    for school_id, lines in files.items():
        roll_import_csv(actor=registrars[school_id], rows=lines)
    xueji_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = 0
    for school_id, lines in files.items():
        again += roll_import_csv(actor=registrars[school_id], rows=lines).changed
    twice_seconds = time.perf_counter() - started
    # Baseline: the rows as a card system's resolved file, COPY into a plain table.
    buffer = io.StringIO()
    for _school_id, rows in by_school.items():
        for class_id, absent in rows:
            for sid, reason, symptom in absent:
                buffer.write(f"{sid}\t{class_id}\t{DAY_CSV}\tfull\t{reason}\t{symptom}\n")
    data = buffer.getvalue().encode()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_absence_copy (student_id uuid, school_class_id bigint, day date, "
            "portion text, reason text, symptom text)"
        )
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.copy("COPY bench_absence_copy FROM STDIN") as copy:
        copy.write(data)
    copy_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_absence_copy")
    return {
        "schools": len(files),
        "lines": sum(len(v) for v in files.values()),
        "absences": len(ids),
        "xueji_seconds": xueji_seconds,
        "second_time_seconds": twice_seconds,
        "second_time_changed": again,
        "bare_copy_seconds": copy_seconds,
        "ratio": xueji_seconds / copy_seconds,
    }


def pages(seed: int, samples: int) -> dict[str, Any]:
    from django.test import Client

    from xueji.access.models import Role
    from xueji.attendance.rates import county_rates
    from xueji.schools.models import School
    from xueji.testing.factories import member

    rng = random.Random(seed)
    _set_today(DAY_PAGES)
    schools = list(School.objects.all())
    morning = []
    for school in rng.sample(schools, min(samples, len(schools))):
        client = Client()
        client.force_login(member(Role.PRINCIPAL, school=school))
        client.get("/attendance/morning/")  # warm
        started = time.perf_counter()
        answer = client.get("/attendance/morning/", {"day": DAY_PAGES.isoformat()})
        morning.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.status_code
    counties = sorted({s.county_id for s in schools})
    biggest = max(counties, key=lambda c: sum(1 for s in schools if s.county_id == c))
    month = []
    for _ in range(samples):
        started = time.perf_counter()
        county_rates(biggest, DAY_PAGES)
        month.append(time.perf_counter() - started)
    # The bureaus' pages read through these selectors (their accounts need a second factor,
    # which a test client has not): the six months of the rates page, the county's day.
    from xueji.attendance.overview import area_day
    from xueji.attendance.rates import months_of_rates
    from xueji.geo.models import Division

    viewer = member(Role.BUREAU_VIEWER, division=Division.objects.get(code=biggest))
    page = []
    for _ in range(max(5, samples // 4)):
        started = time.perf_counter()
        months_of_rates(biggest, DAY_PAGES)
        page.append(time.perf_counter() - started)
    area = []
    for _ in range(max(5, samples // 4)):
        started = time.perf_counter()
        area_day(viewer, DAY_PAGES)
        area.append(time.perf_counter() - started)
    return {
        "morning_page": _timing(morning),
        "county_rates_one_month": _timing(month),
        "rates_page_six_months": _timing(page),
        "county_day_page": _timing(area),
        "county": biggest,
        "schools_in_county": sum(1 for s in schools if s.county_id == biggest),
    }


def storage(children: int, school_days: int) -> dict[str, Any]:
    """The roll's bytes for the term, per school day and projected to 190 days, against one row
    per child per day (that table filled for one day)."""
    from django.db import connection

    def size(table: str) -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(relid)), 0) "
                "FROM pg_partition_tree(%s::regclass)",
                [table],
            )
            total = int(cursor.fetchone()[0])
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            return int(cursor.fetchone()[0]), total

    roll_rows, roll_bytes = size("attendance_rollcall")
    absence_rows, absence_bytes = size("attendance_absence")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(DISTINCT day) FROM attendance_rollcall")
        days = int(cursor.fetchone()[0])
        cursor.execute(
            "CREATE TABLE bench_per_child (student_id uuid NOT NULL, school_class_id bigint NOT "
            "NULL, school_id bigint NOT NULL, day date NOT NULL, present boolean NOT NULL, "
            "portion varchar(4) NOT NULL, reason varchar(10) NOT NULL, symptom varchar(16) NOT "
            "NULL, note varchar(200) NOT NULL, PRIMARY KEY (student_id, day))"
        )
        cursor.execute(
            "CREATE INDEX bench_per_child_class ON bench_per_child (school_class_id, day)"
        )
        cursor.execute(
            "INSERT INTO bench_per_child SELECT p.student_id, p.school_class_id, p.school_id, "
            "%s, true, '', '', '', '' FROM students_placement p WHERE p.end_date IS NULL",
            [DAY_PAGES],
        )
        one_day_rows = cursor.rowcount
        cursor.execute("SELECT pg_total_relation_size('bench_per_child')")
        one_day_bytes = int(cursor.fetchone()[0])
        cursor.execute("DROP TABLE bench_per_child")
    per_day = (roll_bytes + absence_bytes) / max(days, 1)
    year_bytes = per_day * 190
    year_rows = (roll_rows + absence_rows) / max(days, 1) * 190
    return {
        "days_stored": days,
        "rollcall_rows": roll_rows,
        "rollcall_bytes": roll_bytes,
        "absence_rows": absence_rows,
        "absence_bytes": absence_bytes,
        "year_rows_projected": year_rows,
        "year_bytes_projected": year_bytes,
        "per_child_rows_per_year": one_day_rows * 190,
        "per_child_bytes_per_year": one_day_bytes * 190,
        "bytes_ratio_per_child_to_xueji": one_day_bytes * 190 / year_bytes if year_bytes else None,
        "children": children,
    }


def run(seed: int = 2026, samples: int = 40, csv_schools: int = 0) -> dict[str, Any]:
    """The whole part; the registry's date is set to the days measured and put back after."""
    from django.utils import timezone

    localdate = timezone.localdate
    try:
        return _run(seed, samples, csv_schools)
    finally:
        timezone.localdate = localdate  # type: ignore[assignment]


def _run(seed: int, samples: int, csv_schools: int) -> dict[str, Any]:
    from django.db import connection

    from xueji.attendance.services.scan import attendance_daily

    print("  registrars and classes", flush=True)
    registrars = _registrars()
    classes = _classes()
    children = sum(len(c[1]) for c in classes.values())
    print("  a term of history (set-based)", flush=True)
    made = history(DAY_SERVICE - datetime.timedelta(days=1))
    started = time.perf_counter()
    counts = attendance_daily(on=DAY_SERVICE - datetime.timedelta(days=1))
    scan_seconds = time.perf_counter() - started
    print(f"  daily scan {scan_seconds:.1f} s {counts}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    print(f"  roll of {len(classes):,} classes by the service, {WORKERS} workers", flush=True)
    service = roll_by_service(classes, registrars, seed)
    print(f"    {service['seconds']:.1f} s", flush=True)
    print("  the same by hand-written SQL", flush=True)
    sql = roll_by_sql(classes, seed)
    print(f"    {sql['seconds']:.1f} s", flush=True)
    print("  the card systems' CSV vs bare COPY", flush=True)
    csv_result = csv_day(classes, registrars, seed + 1, csv_schools)
    print(f"    {csv_result['xueji_seconds']:.1f} s vs {csv_result['bare_copy_seconds']:.2f} s")
    print("  pages", flush=True)
    page = pages(seed + 2, samples)
    return {
        "children": children,
        "classes": len(classes),
        "history": made,
        "daily_scan": {"seconds": scan_seconds, "counts": counts},
        "roll_service": service,
        "roll_sql": sql,
        "roll_ratio": service["seconds"] / sql["seconds"],
        "csv": csv_result,
        "pages": page,
        "storage": storage(children, made["school_days"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.attendance", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--csv-schools", type=int, default=0, help="the CSV part on the first N schools (0: all)"
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from bench import database

    with database.django_on(database.bench_url(), fresh=True, keep=args.keep_database):
        from bench import load

        print(f"Synth: {args.students:,} students", flush=True)
        synth = load.run_synth(args.students, args.seed)
        load.checkpoint()
        results = run(args.seed, args.samples, args.csv_schools)
        results["students"] = synth.students
    out = args.output / f"attendance-{args.students}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, default=str))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
