"""Year-end promotion of a province (xueji.yearend) against bare SQL, on the same rows.

After `xueji synth` has loaded N students of one province (academic year 2026-2027):

- baseline: bare SQL statements, in one transaction, that close every open placement of the
  students a promotion moves (end_date = 1 September of the next year) and insert the same new
  placements one grade up in the next year's class of the same name (classes created as
  needed): a temporary table of the moves, one INSERT of classes, one UPDATE, one INSERT;
- xueji: `run_plan` (the dry run, timed on its own) then `run_start` and `run_execute` of the
  promotion of the province, chunk by chunk (each chunk one transaction with its progress,
  member rows for reversal, record events, repeats and skips), as `xueji yearend promote`.

Both start from the same pages: the loaded database is copied (CREATE DATABASE … TEMPLATE,
file copy), the bare SQL runs on the original, the service on the copy (VACUUM ANALYZE and
CHECKPOINT before each); both results are checked to be the same placement table. Peak RSS
of the process is measured over the xueji run alone (VmHWM reset before it).
`python -m bench.yearend --students 250000` runs this part alone on a fresh database.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.memory import rss_now_mb, rss_peak_mb, rss_reset

PROVINCE = "440000"
FROM_YEAR = 2026


def _table_digest() -> tuple[int, str]:
    """Count and an order-free digest of the placement table without generated ids."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*), COALESCE(SUM(('x' || substr(md5(
                p.student_id::text || p.school_id || k.academic_year_id || k.grade || k.number
                || p.grade || p.start_date || COALESCE(p.end_date::text, '-')), 1, 15))::bit(60)
                ::bigint), 0)
            FROM students_placement p JOIN schools_schoolclass k ON k.id = p.school_class_id
            """
        )
        count, digest = cursor.fetchone()
    return int(count), str(digest)


BARE_SQL = [
    # The moves: every enrolled student whose open placement is in the year left and below the
    # school's last grade (the same selection as the service, repeats and skips included).
    """
    CREATE TEMP TABLE bare_moves ON COMMIT DROP AS
    SELECT p.id AS old_id, gen_random_uuid() AS new_id, p.student_id, p.school_id,
        p.grade + (CASE c.kind WHEN 'repeat' THEN 0 WHEN 'skip' THEN 2 ELSE 1 END) AS to_grade,
        k.number, k.name
    FROM students_placement p
    JOIN students_student s ON s.id = p.student_id
    JOIN schools_schoolclass k ON k.id = p.school_class_id
    JOIN schools_school sc ON sc.id = p.school_id
    LEFT JOIN changes_changerequest c ON c.student_id = p.student_id AND c.state = 'approved'
        AND c.kind IN ('repeat', 'skip')
    WHERE p.end_date IS NULL AND k.academic_year_id = %(from_year)s AND s.state = 'enrolled'
      AND sc.province_id = %(province)s
      AND (p.grade < sc.last_grade OR c.kind = 'repeat')
      AND p.grade + (CASE c.kind WHEN 'repeat' THEN 0 WHEN 'skip' THEN 2 ELSE 1 END)
          <= sc.last_grade
    """,
    """
    INSERT INTO schools_schoolclass (school_id, academic_year_id, grade, number, name)
    SELECT DISTINCT school_id, %(to_year)s, to_grade, number, name FROM bare_moves
    ON CONFLICT (school_id, academic_year_id, grade, number) DO NOTHING
    """,
    """
    UPDATE students_placement p SET end_date = %(day)s FROM bare_moves m WHERE p.id = m.old_id
    """,
    """
    INSERT INTO students_placement (id, student_id, school_id, school_class_id, grade,
        start_date, end_date, reason)
    SELECT m.new_id, m.student_id, m.school_id, nk.id, m.to_grade, %(day)s, NULL, 'promotion'
    FROM bare_moves m JOIN schools_schoolclass nk ON nk.school_id = m.school_id
        AND nk.academic_year_id = %(to_year)s AND nk.grade = m.to_grade AND nk.number = m.number
    """,
]


def _wal_lsn() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def _years() -> tuple[int, int, datetime.date]:
    from xueji.schools.models import AcademicYear

    from_year = AcademicYear.objects.get(start_year=FROM_YEAR)
    to_year, _ = AcademicYear.objects.get_or_create(start_year=FROM_YEAR + 1)
    return from_year.pk, to_year.pk, to_year.start_date


def _settle() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE students_placement")
        cursor.execute("VACUUM ANALYZE schools_schoolclass")
        cursor.execute("CHECKPOINT")


def _reset(to_year_id: int, day: datetime.date) -> None:
    """Put the placements back as synth left them (untimed)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM students_placement WHERE start_date = %s", [day])
        cursor.execute("UPDATE students_placement SET end_date = NULL WHERE end_date = %s", [day])
        cursor.execute("DELETE FROM schools_schoolclass WHERE academic_year_id = %s", [to_year_id])
        cursor.execute("DELETE FROM students_recordevent WHERE occurred_on = %s", [day])
        cursor.execute("DELETE FROM yearend_yearendmember")
        cursor.execute("DELETE FROM yearend_yearendchunk")
        cursor.execute("DELETE FROM yearend_notice")
        cursor.execute("DELETE FROM yearend_yearendrun")
    _settle()


def bare(from_year_id: int, to_year_id: int, day: datetime.date) -> tuple[float, int]:
    from django.db import connection, transaction

    params: dict[str, Any] = {
        "from_year": from_year_id,
        "to_year": to_year_id,
        "day": day,
        "province": PROVINCE,
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        moved = 0
        for statement in BARE_SQL:
            cursor.execute(statement, params)
            if statement.lstrip().startswith("UPDATE"):
                moved = cursor.rowcount
    return time.perf_counter() - started, moved


def service() -> dict[str, Any]:
    from xueji.yearend.models import RunKind
    from xueji.yearend.services import run_execute, run_plan, run_start

    rss_reset()
    rss_start = rss_now_mb()
    started = time.perf_counter()
    run = run_plan(actor=None, kind=RunKind.PROMOTE, scope=PROVINCE, from_year=FROM_YEAR)
    planned = time.perf_counter()
    run_start(actor=None, run_id=run.pk, enqueue=False)
    last = [planned]

    def progress(current: Any) -> None:
        now = time.perf_counter()
        if now - last[0] > 10 or current.chunks_done == current.chunks_total:
            last[0] = now
            print(
                f"    {current.chunks_done}/{current.chunks_total} chunks, "
                f"{current.students_done:,} students ({now - planned:.0f} s)",
                flush=True,
            )

    run = run_execute(run_id=run.pk, progress=progress)
    finished = time.perf_counter()
    return {
        "plan_seconds": planned - started,
        "run_seconds": finished - planned,
        "students": run.students_done,
        "chunks": run.chunks_total,
        "rss_start_mb": rss_start,
        "peak_rss_mb": rss_peak_mb(),
        "state": run.state,
    }


def _clone(url: str) -> tuple[str, Any]:
    """Copy the loaded database as it is (file copy): the bare SQL runs on the original, the
    service on the copy, so that both start from the same pages and the same free space."""
    from django.db import connections
    from psycopg import sql

    from bench import database

    name = database.database_name(url)
    pristine = f"{name}_pristine"
    connections.close_all()
    with database.psycopg.connect(database._maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(pristine))
        )
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(pristine), sql.Identifier(name)
            )
        )
    return pristine, sql


def _swap(url: str, pristine: str, sql: Any) -> None:
    """Drop the database the bare SQL changed and put the pristine copy in its place."""
    from django.db import connections

    from bench import database

    name = database.database_name(url)
    connections.close_all()
    with database.psycopg.connect(database._maintenance_url(url), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(pristine), sql.Identifier(name)
            )
        )


def run(url: str | None = None) -> dict[str, Any]:
    """Both ways over the loaded province, each on the same pristine copy of the database
    (with `url`; without it, the database is put back by statements between the two, which
    leaves the second run on a churned table); the database is left as the service left it."""
    from_year_id, to_year_id, day = _years()
    _settle()
    pristine = None
    if url is not None:
        print("  copying the loaded database (both runs start from the same pages)", flush=True)
        pristine, sql = _clone(url)
    print("  bare SQL: close and insert in one transaction", flush=True)
    wal = _wal_lsn()
    bare_seconds, bare_moved = bare(from_year_id, to_year_id, day)
    bare_wal = _wal_lsn() - wal
    bare_digest = _table_digest()
    if pristine is not None:
        _swap(url or "", pristine, sql)
        _settle()
    else:
        _reset(to_year_id, day)
    print("  xueji: dry run, then the promotion run chunk by chunk", flush=True)
    wal = _wal_lsn()
    result = service()
    result["wal_mb"] = (_wal_lsn() - wal) / 1e6
    same = _table_digest() == bare_digest
    result.update(
        {
            "bare_seconds": bare_seconds,
            "bare_students": bare_moved,
            "bare_wal_mb": bare_wal / 1e6,
            "same_placements": same,
            "same_start": pristine is not None,
            "ratio": result["run_seconds"] / bare_seconds,
            "ratio_with_dry_run": (result["run_seconds"] + result["plan_seconds"]) / bare_seconds,
        }
    )
    return result


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (
            f"promotion of a province ({results['students']:,} students, "
            f"{results['chunks']} chunks), peak RSS {results['peak_rss_mb']:.0f} MB "
            f"(at start {results.get('rss_start_mb', 0):.0f} MB)",
            f"{results['run_seconds']:.1f} s (+ dry run {results['plan_seconds']:.1f} s)",
            f"bare SQL {results['bare_seconds']:.1f} s",
            f"{results['ratio']:.2f}× ({results['ratio_with_dry_run']:.2f}× with the dry run)",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the year-end bench alone on a fresh database."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.yearend", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    # Made now: a run is long, and its figures are written only at its end.
    args.output.mkdir(parents=True, exist_ok=True)

    from bench import database

    url = database.bench_url()
    with database.django_on(url, fresh=True, keep=args.keep_database):
        from bench import load

        print(f"Synth: {args.students:,} students", flush=True)
        synth = load.run_synth(args.students, args.seed)
        load.checkpoint()
        print("Year end: promotion of the province", flush=True)
        results = run(url)
        results["students_loaded"] = synth.students
    out = args.output / f"yearend-{synth.students}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    for row in rows(results):
        print("  ".join(row))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
