"""`make bench` (python -m bench): the registry's figures on PostgreSQL, each as a ratio against
a baseline measured in the same run.

    python -m bench                      # 1,000,000 students (takes a while on a slow disk)
    python -m bench --students 100000    # quick; or BENCH_STUDENTS=100000 make bench

It creates its own database (BENCH_DATABASE_URL, else DATABASE_URL's server with the database
xueji_bench, else postgres://postgres@127.0.0.1:5432/xueji_bench), drops it at the end, and writes
bench/results.json and bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import audit as audit_bench
from bench import database, report

HERE = Path(__file__).resolve().parent


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--students", type=int, default=int(os.environ.get("BENCH_STUDENTS", "1000000"))
    )
    parser.add_argument("--registrations", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--stats-queries", type=int, default=100, help="bench/stats.py")
    parser.add_argument(
        "--encryption-registrations", type=int, default=500, help="bench/encryption.py"
    )
    parser.add_argument("--transfers", type=int, default=400, help="bench/transfers.py (8 workers)")
    parser.add_argument(
        "--audit-registrations",
        type=int,
        default=audit_bench.REGISTRATIONS,
        help="bench/audit.py, per worker count (1, 8, 32) and side (0: skip)",
    )
    parser.add_argument(
        "--import-xlsx-rows", type=int, default=100_000, help="bench/imports.py (0: skip)"
    )
    parser.add_argument(
        "--import-xlsx-shared-rows",
        type=int,
        default=100_000,
        help="bench/imports.py, an .xlsx with shared strings as Excel saves it (0: skip)",
    )
    parser.add_argument(
        "--import-csv-rows", type=int, default=1_000_000, help="bench/imports.py (0: skip)"
    )
    parser.add_argument(
        "--no-exports", action="store_true", help="skip bench/exports.py (CSV and XLSX, ~10 min)"
    )
    parser.add_argument(
        "--duplicates-chinese",
        type=int,
        default=20_000,
        help="bench/duplicates.py: synthetic Chinese records (the issue's size: 100000; 0: skip)",
    )
    parser.add_argument(
        "--duplicates-roll-rows",
        type=int,
        default=100_000,
        help="bench/duplicates.py: population roll rows vs bare COPY (1000000 in the issue)",
    )
    parser.add_argument(
        "--funding-days",
        type=int,
        default=10,
        help="bench/funding.py: school days of meals and attendance checked (0: skip)",
    )
    parser.add_argument(
        "--reporting-pages",
        type=int,
        default=20,
        help="bench/reporting.py: requests of the county's confirmation page (0: skip)",
    )
    parser.add_argument(
        "--archive-children",
        type=int,
        default=50,
        help="bench/archive.py: a class's electronic files (0: skip; the issue's size: 50)",
    )
    parser.add_argument(
        "--archive-certificates",
        type=int,
        default=200,
        help="bench/archive.py: certificates issued and rendered (the issue's size: 1000)",
    )
    parser.add_argument(
        "--attendance-samples",
        type=int,
        default=40,
        help="bench/attendance.py: page requests timed (0: skip the attendance part)",
    )
    parser.add_argument(
        "--attendance-csv-schools",
        type=int,
        default=10,
        help="bench/attendance.py: schools whose card-system CSV is imported (0: all)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    parser.add_argument("--output", type=Path, default=HERE, help="where results go")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    # run() migrates itself: the migration is part of the run's total_seconds.
    with database.django_on(
        database.bench_url(), fresh=True, keep=args.keep_database, migrate=False
    ):
        results = run(args)
    table = report.table(results)
    print()
    print(table)
    report.write(results, args.output)
    print(f"\nWrote {args.output / 'results.json'} and {args.output / 'RESULTS.md'}")
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    from bench import encryption, load, lookups, register
    from bench import stats as stats_bench

    started = time.perf_counter()
    print("Migrating (loads the GB/T 2260 divisions)", flush=True)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version(), current_setting('shared_buffers'), "
            "current_setting('synchronous_commit'), current_setting('max_wal_size')"
        )
        version, shared_buffers, synchronous_commit, max_wal_size = cursor.fetchone()

    load.checkpoint()
    print(f"Synth: {args.students:,} students", flush=True)
    synth = load.run_synth(args.students, args.seed)
    exported = load.export_rows()
    print("Baseline: bare COPY of the same rows into plain tables", flush=True)
    bare_seconds = load.bare_copy(exported)
    print("Reload: the same rows into the emptied real tables, as synth loads them", flush=True)
    reload = load.reload(exported)
    exported_bytes = sum(len(data) for data in exported.values())
    del exported
    load.checkpoint()
    # Statistics first, on the synthetic rows alone: its history moves children on days before
    # today, which placements opened today by the registration bench have not reached.
    print("Statistics: grade × age × sex tables vs DuckDB over Parquet", flush=True)
    statistics = stats_bench.run(args.stats_queries, args.seed + 3)
    print(f"Registration: {args.registrations:,} by the service and as bare INSERTs", flush=True)
    registration = register.run(args.registrations, args.seed + 1)
    print(f"Lookups: {args.queries} random queries of each kind", flush=True)
    lookup = lookups.run(args.queries, args.seed + 2)
    from bench import yearend as yearend_bench

    # Before the transfers: a transfer under way is unfinished business that stops a promotion.
    print("Year end: promotion of the province by xueji vs bare SQL", flush=True)
    promotion = yearend_bench.run()
    from bench import transfers

    print(f"Transfers: {args.transfers:,} completed by the service vs bare SQL", flush=True)
    transfer = transfers.run(args.transfers)
    audited = None
    if args.audit_registrations:
        print(
            f"Audit trail: {args.audit_registrations:,} registrations by 1, 8 and 32 workers in "
            "as many counties, audited vs not",
            flush=True,
        )
        audited = audit_bench.run(args.audit_registrations, seed=args.seed + 6)
    from bench import imports as imports_bench

    print(
        f"Imports: {args.import_xlsx_rows:,}-row .xlsx (and {args.import_xlsx_shared_rows:,} "
        f"with shared strings) and {args.import_csv_rows:,}-row CSV vs bare COPY",
        flush=True,
    )
    imported = imports_bench.run(
        args.import_xlsx_rows,
        args.import_csv_rows,
        args.seed + 5,
        xlsx_shared_rows=args.import_xlsx_shared_rows,
    )

    export_results = None
    if not args.no_exports:
        from bench import exports as exports_bench

        # Before the encryption part: a revealed export unseals every number.
        print("Exports: the province's records as CSV and XLSX vs a bare COPY", flush=True)
        export_results = exports_bench.run(queries=False)

    funding_results = None
    if args.funding_days:
        from bench import funding as funding_bench

        print(
            f"Funding: the province's census allocation and consistency checks over "
            f"{args.funding_days} school days vs bare SQL",
            flush=True,
        )
        funding_results = funding_bench.run(args.funding_days)

    duplicate_results = None
    if args.duplicates_chinese or args.duplicates_roll_rows:
        from bench import duplicates as duplicates_bench

        print("Duplicates: matcher vs Splink, FEBRL 1-4; roll load vs COPY", flush=True)
        duplicate_results = duplicates_bench.run(
            chinese_count=args.duplicates_chinese,
            febrl_numbers=[1, 2, 3, 4] if args.duplicates_chinese else [],
            splink=True,
            increment=min(10_000, args.duplicates_chinese // 10),
        )
        if args.duplicates_roll_rows:
            duplicate_results["roll"] = duplicates_bench.roll(args.duplicates_roll_rows)

    reporting_results = None
    if args.reporting_pages:
        from bench import reporting as reporting_bench

        print("Reporting: open and snapshot a round for the province vs bare SQL", flush=True)
        reporting_results = reporting_bench.run(args.reporting_pages)

    archive_results = None
    if args.archive_children:
        from bench import archive as archive_bench

        print(
            f"Archive: a class of {args.archive_children} electronic files and "
            f"{args.archive_certificates} certificates vs bare ReportLab pages",
            flush=True,
        )
        archive_results = archive_bench.run(args.archive_children, args.archive_certificates)

    attendance_results = None
    if args.attendance_samples:
        from bench import attendance as attendance_bench

        print("Attendance: a day's roll by 8 teachers vs bare SQL, CSV vs COPY, pages", flush=True)
        attendance_results = attendance_bench.run(
            args.seed + 7, args.attendance_samples, args.attendance_csv_schools
        )

    # Last: its baseline leaves records with plaintext numbers, which the parts above would
    # sample and fail to unseal.
    print("Encryption: registration and lookups sealed vs a plaintext sealer", flush=True)
    sealing = encryption.run(args.encryption_registrations, args.queries, args.seed + 4)

    return {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "students": args.students,
        "environment": {
            "postgresql": version.split(",")[0],
            "shared_buffers": shared_buffers,
            "synchronous_commit": synchronous_commit,
            "max_wal_size": max_wal_size,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "load": {
            "synth_seconds": synth.seconds,
            "synth_students_per_second": synth.students / synth.seconds,
            "reload_seconds": reload["seconds"],
            "bare_copy_seconds": bare_seconds,
            "copy_megabytes": exported_bytes / 1e6,
            "synth_ratio": synth.seconds / bare_seconds,
            "reload_ratio": reload["seconds"] / bare_seconds,
            "rows": {
                "students": synth.students,
                "family_members": synth.family_members,
                "placements": synth.placements,
                "schools": synth.schools,
                "classes": synth.classes,
            },
            "index_mode": synth.index_mode,
            "generating_processes": synth.workers,
            "synth_phases": synth.phases,
            "reload_phases": reload["phases"],
            "index_timings": reload["index_timings"],
        },
        "registration": registration,
        "lookups": lookup,
        "statistics": statistics,
        "yearend": promotion,
        "transfers": transfer,
        **({"audit": audited} if audited is not None else {}),
        "encryption": sealing,
        "imports": imported,
        **({"exports": export_results} if export_results is not None else {}),
        **({"funding": funding_results} if funding_results is not None else {}),
        **({"reporting": reporting_results} if reporting_results is not None else {}),
        **({"duplicates": duplicate_results} if duplicate_results is not None else {}),
        **({"archive": archive_results} if archive_results is not None else {}),
        **({"attendance": attendance_results} if attendance_results is not None else {}),
        "total_seconds": time.perf_counter() - started,
    }


if __name__ == "__main__":
    raise SystemExit(main())
