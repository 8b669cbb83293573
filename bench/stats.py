"""The grade × age × sex table of xueji.stats on PostgreSQL vs DuckDB over the same rows in Parquet.

After synth, a history is written set-based, the way the transfer service writes it: about 5% of
the children are transferred on a day between the census day and today (their open placement
closed that day, a new one opened at a class of the same grade elsewhere, reason "transfer"), so
that "today" and "a past date" count different placements. Then:

- xueji: `stats.selectors.age_report` for a provincial bureau viewer (scope fence, the table's
  small-cell suppression and layout included) for the province and for its largest county, as of
  today and as of the past date;
- baseline: DuckDB computing the same table (same rows counted, same grouping; the results are
  checked equal) from the placement, student and school rows exported to Parquet in this run.

Each query runs both ways back to back, in alternating order; p50 and p95 are reported with
their ratio. `python -m bench.stats` runs this part alone (against a database already loaded,
with --database-url, or a fresh one like `python -m bench`).
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.users import PROVINCE, province_member

TRANSFER_SHARE = 5  # per cent of the children on roll
WARMUP = 3

PARQUET_TABLES = {
    "placement": (
        "students_placement",
        "id, student_id, school_id, school_class_id, grade, start_date, end_date, reason",
    ),
    "student": ("students_student", "id, sex, birth_date, state"),
    "school": ("schools_school", "id, kind, county_id, city_id, province_id"),
}

# The same statement as xueji.stats.sql.on_roll for keys (grade, age, sex), in DuckDB's dialect.
DUCKDB_SQL = """
SELECT g.k0, (({day} - (year(g.k1) * 10000 + month(g.k1) * 100 + day(g.k1))) // 10000) AS age,
       g.k2, SUM(g.n)
FROM (
  SELECT p.grade AS k0, s.birth_date AS k1, s.sex AS k2, COUNT(*) AS n
  FROM placement p
  JOIN student s ON s.id = p.student_id
  JOIN school sc ON sc.id = p.school_id
  WHERE p.start_date <= ? AND (p.end_date IS NULL OR p.end_date > ?)
    AND (p.end_date IS NOT NULL OR s.state IN ('enrolled', 'suspended', 'transferring'))
    AND {area}
  GROUP BY 1, 2, 3
) g
GROUP BY 1, 2, 3
"""


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000,
    }


def write_history(seed: int, today: datetime.date) -> dict[str, Any]:
    """Transfer TRANSFER_SHARE% of the children on days after the past date (set-based)."""
    from django.db import connection, transaction

    past = past_date(today)
    days = max(1, (today - past).days)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        cursor.execute(
            "CREATE TEMP TABLE bench_moves ON COMMIT DROP AS "
            "SELECT p.id AS placement_id, p.student_id, p.grade, p.school_id, "
            "%s::date + (1 + floor(random() * %s))::int AS day, random() AS pick "
            "FROM students_placement p WHERE p.end_date IS NULL AND random() < %s",
            [past, days, TRANSFER_SHARE / 100],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_classes ON COMMIT DROP AS "
            "SELECT c.id, c.school_id, c.grade, "
            "row_number() OVER (PARTITION BY c.grade ORDER BY c.id) - 1 AS k, "
            "count(*) OVER (PARTITION BY c.grade) AS n FROM schools_schoolclass c"
        )
        cursor.execute(
            "UPDATE students_placement p SET end_date = m.day FROM bench_moves m "
            "WHERE p.id = m.placement_id"
        )
        cursor.execute(
            "INSERT INTO students_placement "
            "(id, student_id, school_id, school_class_id, grade, start_date, end_date, reason) "
            "SELECT gen_random_uuid(), m.student_id, c.school_id, c.id, m.grade, m.day, NULL, "
            "'transfer' FROM bench_moves m JOIN bench_classes c "
            "ON c.grade = m.grade AND c.k = floor(m.pick * c.n)::int"
        )
        moved = cursor.rowcount
        cursor.execute(
            "UPDATE students_student s SET school_id = p.school_id FROM students_placement p "
            "WHERE p.student_id = s.id AND p.end_date IS NULL AND p.reason = 'transfer'"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE students_placement")
        cursor.execute("VACUUM ANALYZE students_student")
    return {"transfers": moved, "seconds": time.perf_counter() - started}


def past_date(today: datetime.date) -> datetime.date:
    """A month into the school year synth placed everyone in (or a month ago, if earlier)."""
    from xueji.demo.synth import ACADEMIC_YEAR

    return min(datetime.date(ACADEMIC_YEAR, 10, 1), today - datetime.timedelta(days=30))


def export_parquet(directory: Path) -> dict[str, Any]:
    """The rows the table is made of, from PostgreSQL (COPY, CSV) to Parquet (by DuckDB)."""
    import duckdb
    from django.db import connection

    started = time.perf_counter()
    sizes = {}
    with connection.cursor() as cursor:
        for name, (table, columns) in PARQUET_TABLES.items():
            csv_path = directory / f"{name}.csv"
            with (
                csv_path.open("wb") as out,
                cursor.copy(
                    f"COPY {table} ({columns}) TO STDOUT WITH (FORMAT csv, HEADER)"
                ) as copy,
            ):
                for data in copy:
                    out.write(data)
            parquet = directory / f"{name}.parquet"
            duckdb.sql(
                f"COPY (SELECT * FROM read_csv('{csv_path}', header = true, "
                "auto_detect = true, sample_size = -1)) "
                f"TO '{parquet}' (FORMAT parquet)"
            )
            csv_path.unlink()
            sizes[name] = parquet.stat().st_size
    return {"seconds": time.perf_counter() - started, "bytes": sizes}


def _duckdb(directory: Path) -> Any:
    import duckdb

    database = duckdb.connect()
    for name in PARQUET_TABLES:
        database.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{directory / name}.parquet')"
        )
    return database


def _viewer() -> Any:
    from xueji.access.models import Role

    return province_member("bench-stats-viewer", Role.BUREAU_VIEWER)


def _largest_county() -> tuple[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sc.county_id, COUNT(*) FROM students_placement p "
            "JOIN schools_school sc ON sc.id = p.school_id WHERE p.end_date IS NULL "
            "AND sc.province_id = %s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
            [PROVINCE],
        )
        code, count = cursor.fetchone()
    return str(code), int(count)


def _table_rows(report: Any) -> dict[tuple[int, int, str], int]:
    """The exact counts behind a report (its cube), to compare with DuckDB's."""
    cube = report.cube
    return {
        (int(g), int(a), str(s)): cube[(g, a, s)]
        for g in cube.values[0]
        for a in cube.values[1]
        for s in cube.values[2]
        if cube[(g, a, s)]
    }


def run(queries: int, seed: int, today: datetime.date | None = None) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from xueji.stats import sql as stats_sql
    from xueji.stats.selectors import age_report
    from xueji.stats.targets import TargetSpec

    today = today or timezone.localdate()
    past = past_date(today)
    print(f"    history: {TRANSFER_SHARE}% of the children transferred after {past}", flush=True)
    history = write_history(seed, today)
    county, county_size = _largest_county()
    user = _viewer()
    rng = random.Random(seed)
    results: dict[str, Any] = {
        "history": history,
        "today": today.isoformat(),
        "past": past.isoformat(),
        "county": county,
        "cases": {},
    }
    with tempfile.TemporaryDirectory(prefix="xueji-bench-stats-") as directory:
        print("    exporting the rows to Parquet", flush=True)
        results["parquet"] = export_parquet(Path(directory))
        duck = _duckdb(Path(directory))
        cases = [
            ("province", TargetSpec("province", code=PROVINCE), f"sc.province_id = '{PROVINCE}'"),
            ("county", TargetSpec("county", code=county), f"sc.county_id = '{county}'"),
        ]
        for area_name, spec, duck_area in cases:
            for day_name, day in (("today", today), ("past date", past)):
                label = f"{area_name}, {day_name}"
                day_int = int(day.strftime("%Y%m%d"))
                statement = DUCKDB_SQL.format(day=day_int, area=duck_area)
                area = stats_sql.Area(spec.level, code=spec.code)
                scope = stats_sql.Scope(
                    role="bureau_viewer", level="province", division_code=PROVINCE
                )
                sides: dict[str, Callable[[], Any]] = {
                    "xueji": lambda spec=spec, day=day: age_report(user, spec, day),
                    "duckdb": lambda s=statement, d=day: duck.execute(s, [d, d]).fetchall(),
                    "sql": lambda area=area, scope=scope, day=day: stats_sql.on_roll(
                        day, area, scope, ["grade", "age", "sex"]
                    ),
                }
                # The same table both ways.
                report = sides["xueji"]()
                duck_rows = {(int(g), int(a), str(s)): int(n) for g, a, s, n in sides["duckdb"]()}
                if _table_rows(report) != duck_rows:
                    raise RuntimeError(f"{label}: DuckDB and xueji disagree")
                times: dict[str, list[float]] = {side: [] for side in sides}
                count = queries if area_name == "county" else max(10, queries // 5)
                for index in range(count + WARMUP):
                    order = list(sides.items())
                    rng.shuffle(order)
                    for side, call in order:
                        started = time.perf_counter()
                        call()
                        elapsed = time.perf_counter() - started
                        if index >= WARMUP:
                            times[side].append(elapsed)
                stats = {side: _percentiles(samples) for side, samples in times.items()}
                results["cases"][label] = {
                    "queries": count,
                    "students": report.cube.total,
                    **stats,
                    "ratio_p50": stats["xueji"]["p50_ms"] / stats["duckdb"]["p50_ms"],
                    "ratio_p95": stats["xueji"]["p95_ms"] / stats["duckdb"]["p95_ms"],
                }
                xueji_p95, duck_p95 = stats["xueji"]["p95_ms"], stats["duckdb"]["p95_ms"]
                print(
                    f"    {label}: {report.cube.total:,} students, xueji p95 {xueji_p95:.0f} ms, "
                    f"DuckDB p95 {duck_p95:.0f} ms",
                    flush=True,
                )
        duck.close()
    results["county_students"] = county_size
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM students_placement")
        results["placements"] = cursor.fetchone()[0]
    return results


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, xueji, baseline, ratio) rows for bench/report.py's table."""
    found = []
    for label, case in results["cases"].items():
        found.append(
            (
                f"grade × age × sex, {label} ({case['students']:,} children), p50 / p95",
                f"{case['xueji']['p50_ms']:.0f} / {case['xueji']['p95_ms']:.0f} ms",
                f"DuckDB {case['duckdb']['p50_ms']:.0f} / {case['duckdb']['p95_ms']:.0f} ms",
                f"{case['ratio_p50']:.1f}× / {case['ratio_p95']:.1f}×",
            )
        )
    return found


def markdown(results: dict[str, Any]) -> list[str]:
    """The section of bench/RESULTS.md that says what the statistics rows compare."""
    lines = [
        "- **grade × age × sex** (xueji.stats): `stats.selectors.age_report` for a provincial "
        "viewer (scope fence, small-cell suppression and table layout included) for the province "
        f"and its largest county ({results['county']}), as of today ({results['today']}) and of "
        f"a past date ({results['past']}), after {results['history']['transfers']:,} transfers "
        "written as the transfer service writes them; against DuckDB computing the same table "
        "(checked equal) from the same placement, student and school rows exported to Parquet "
        "in the same run. SQL alone (the statement without Python) p95: "
        + ", ".join(
            f"{label} {case['sql']['p95_ms']:.0f} ms" for label, case in results["cases"].items()
        )
        + "."
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the statistics bench alone."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.stats", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--database-url", default="", help="an already loaded database (not dropped)"
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    # Made now: a run is long, and its figures are written only at its end.
    args.output.mkdir(parents=True, exist_ok=True)

    from bench import database

    url = args.database_url or database.bench_url()
    fresh = not args.database_url
    with database.django_on(url, fresh=fresh, keep=args.keep_database, migrate=fresh):
        if fresh:
            from bench import load

            print(f"Synth: {args.students:,} students", flush=True)
            synth = load.run_synth(args.students, args.seed)
            load.checkpoint()
            students = synth.students
        else:
            from xueji.students.models import Student

            students = Student.objects.count()
        print("Statistics: grade × age × sex vs DuckDB", flush=True)
        results = run(args.queries, args.seed + 3)
        results["students_loaded"] = students
    import json

    out = args.output / f"stats-{students}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    for row in rows(results):
        print("  ".join(row))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
