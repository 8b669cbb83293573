"""Spreadsheet imports (xueji.imports) against a bare COPY of the same rows, on PostgreSQL.

- files: N new students of one school in the students template's columns (names from
  xueji.demo.names, distinct resident ID numbers of Guangdong's counties drawn from a synth run
  of the bench's own, so that none is registered already, two family members each), written as
  a .xlsx with inline strings (XlsxWriter, constant memory), as a .xlsx with a shared strings
  table (as Excel saves a file) and as a UTF-8 CSV;
- baseline: a bare COPY of the CSV's rows into a plain table of text columns (no checks, no
  keys, no indexes), in one transaction;
- xueji: `import_job_create` (size, kind and zip checks, SHA-256, the upload kept) and the
  import job run synchronously (every cell checked with the registration form's validators,
  duplicates in the file and against the registry, students + family + placements + events
  written with COPY in one transaction, the audit entry).

Reported: rows/s, the ratio to the bare COPY, and the process's peak RSS over the import alone
(VmHWM reset before it). `python -m bench.imports --xlsx-rows 100000 --csv-rows 1000000` runs
it on a fresh database of its own (xueji_bench_imports unless BENCH_DATABASE_URL is set).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.memory import rss_now_mb, rss_peak_mb, rss_reset

PROVINCE = "44"
CLASSES = 40
# The transfers bench registers its children through xueji.testing.factories.student_data, whose
# ID numbers are of Futian with any sequence: the files leave that county out.
FACTORY_AREA = "440304"


def id_run() -> int:
    """A synth run of the province taken for the files' ID numbers (synth.next_run): synth, and
    the benches that register children made by synth's generator, each take runs of their own,
    and no two runs share a sequence of an area and a birth date."""
    from xueji.demo import synth

    return synth.next_run(PROVINCE + "0000")


def rows(count: int, seed: int, run: int) -> Iterator[list[Any]]:
    """Rows of the students template: valid, each child with a distinct resident ID number that
    nothing else in the bench's database holds: its sequence is one of synth run `run`'s."""
    from xueji.core.idnumbers import make_resident_id
    from xueji.demo import names, synth
    from xueji.imports import columns as cols

    rng = random.Random(seed)
    counties = [c.code for c in synth.province_counties(PROVINCE + "0000")]
    periods = synth.area_periods(PROVINCE + "0000")
    counties = [c for c in counties if c in periods and synth.in_use(periods[c], 2019)]
    counties = [c for c in counties if synth.in_use(periods[c], 2020) and c != FACTORY_AREA]
    # Parents' numbers carry the code of their own birth years (1985-1996).
    old = [c for c in counties if all(synth.in_use(periods[c], y) for y in range(1985, 1997))]
    first = datetime.date(2019, 9, 1)
    fields = cols.fields_of(cols.STUDENTS)
    keys = [f.key for f in fields]
    surnames = names.CHILD_SURNAMES
    for n in range(count):
        born = first + datetime.timedelta(days=n % 360)
        slot = n // 360
        county = counties[slot % len(counties)]
        sequence = _sequence(run, slot // len(counties))
        surname = surnames[rng.randrange(len(surnames))]
        father_born = datetime.date(1985, 1, 1) + datetime.timedelta(days=rng.randrange(3000))
        mother_born = datetime.date(1987, 1, 1) + datetime.timedelta(days=rng.randrange(3000))
        values = {
            "grade": 1,
            "class_number": 1 + n % CLASSES,
            "name": surname + rng.choice(names.BOYS_GIVEN_NAMES),
            "sex": "1 男",
            "birth_date": born.isoformat(),
            "birthplace_code": county,
            "native_place_code": county,
            "ethnicity": "01 汉族",
            "nationality": "CHN",
            "id_doc_type": "1 居民身份证",
            "id_number": make_resident_id(county, born, sequence),
            "overseas_status": "00",
            "health": "10",
            "hukou_division_code": county,
            "hukou_nature": "3",
            "address": f"{rng.choice(names.ROADS)}{rng.randrange(1, 999)}号",
            "phone": f"13{rng.randrange(10**9):09d}",
            "attendance_mode": "1",
            "entry_method": "1",
            "only_child": "是" if rng.random() < 0.3 else "否",
            "attended_preschool": "是",
            "left_behind": "0",
            "disability_type": "0",
            "family.0.relation": "51",
            "family.0.name": surname + rng.choice(names.ADULT_MALE_GIVEN_NAMES),
            "family.0.id_doc_type": "1",
            "family.0.id_number": make_resident_id(
                old[n % len(old)], father_born, rng.randrange(500) * 2 + 1
            ),
            "family.0.phone": f"139{rng.randrange(10**8):08d}",
            "family.0.employer": rng.choice(names.EMPLOYERS),
            "family.0.is_guardian": "是",
            "family.1.relation": "52",
            "family.1.name": rng.choice(surnames) + rng.choice(names.ADULT_FEMALE_GIVEN_NAMES),
            "family.1.id_doc_type": "1",
            "family.1.id_number": make_resident_id(
                old[n % len(old)], mother_born, rng.randrange(500) * 2 + 2
            ),
            "family.1.phone": f"137{rng.randrange(10**8):08d}",
            "family.1.is_guardian": "否",
        }
        yield [values.get(key, "") for key in keys]


def _sequence(run: int, nth: int) -> int:
    """The nth boy's sequence of an area and a birth date in synth run `run`: the run's workers'
    lanes taken in turn, as RowGenerator.child_ids numbers them (sequences start at 1 for boys,
    none being held before)."""
    from xueji.demo import synth

    lane, lanes = synth.run_lane(run, nth % synth.MAX_WORKERS)
    sequence = 1 + 2 * ((nth // synth.MAX_WORKERS) * lanes + lane)
    if sequence > 999:
        raise ValueError(f"too many rows for one area and birth date ({nth + 1})")
    return sequence


def write_files(count: int, seed: int, run: int, folder: Path, label: str) -> dict[str, Path]:
    """The CSV of `count` rows, and the file `label` names if it is a spreadsheet: "xlsx"
    written with inline strings (XlsxWriter's constant memory), "xlsx-shared" with a shared
    strings table, as Excel saves a file."""
    from xueji.imports.tests.sheets import header

    out = {"csv": folder / f"students-{count}.csv"}
    with out["csv"].open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header())
        writer.writerows(rows(count, seed, run))
    if label != "csv":
        out[label] = folder / f"students-{count}-{label}.xlsx"
        # XlsxWriter holds every cell when it writes shared strings: in a child process, so
        # that this one's memory is the import's alone.
        child = multiprocessing.get_context("fork").Process(
            target=_write_xlsx, args=(out[label], count, seed, run, label == "xlsx")
        )
        child.start()
        child.join()
        assert child.exitcode == 0, child.exitcode
    return out


def _write_xlsx(path: Path, count: int, seed: int, run: int, constant_memory: bool) -> None:
    import xlsxwriter

    from xueji.imports.tests.sheets import header

    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": constant_memory, "strings_to_numbers": False}
    )
    sheet = workbook.add_worksheet("数据")
    for c, title in enumerate(header()):
        sheet.write_string(0, c, title)
    for r, row in enumerate(rows(count, seed, run), start=1):
        for c, value in enumerate(row):
            if isinstance(value, int):
                sheet.write_number(r, c, value)
            elif value != "":
                sheet.write_string(r, c, value)
    workbook.close()


def bare_copy(path: Path, columns: int) -> float:
    """Seconds to COPY the CSV's rows into a plain table of text columns, in one transaction."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_import")
        cursor.execute(
            "CREATE TABLE bench_bare_import ("
            + ", ".join(f"c{n} text" for n in range(columns))
            + ")"
        )
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY bench_bare_import FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as copy,
        path.open("rb") as handle,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_bare_import")
    return seconds


FLOOR_TABLES = (
    "students_student",
    "students_familymember",
    "students_placement",
    "students_recordevent",
)


def floor_copy(school: Any, folder: Path, keep: bool = False) -> tuple[float, dict[str, Path]]:
    """Seconds PostgreSQL itself needs to take the rows the import wrote: the four tables' rows
    copied out, removed, and COPYed back in one transaction with every key, index, constraint
    and trigger in place, the COMMIT (which runs the deferred foreign-key checks) included. No
    import into this schema can be faster; the import's own work is what it costs above this.
    With `keep`, the COPY texts are kept and returned (for bench.floor_breakdown)."""
    from django.db import connection, transaction

    where = {
        "students_student": "school_id = %s",
        "students_placement": "school_id = %s",
        "students_familymember": "student_id IN (SELECT id FROM students_student "
        "WHERE school_id = %s)",
        "students_recordevent": "student_id IN (SELECT id FROM students_student "
        "WHERE school_id = %s)",
    }
    files = {}
    with connection.cursor() as cursor:
        for table in FLOOR_TABLES:
            files[table] = folder / f"{table}.copy"
            query = f"COPY (SELECT * FROM {table} WHERE {where[table]}) TO STDOUT"
            with (
                files[table].open("wb") as out,
                cursor.cursor.copy(query.replace("%s", str(int(school.pk)))) as copy,
            ):
                for data in copy:
                    out.write(data)
    reset(school)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in FLOOR_TABLES:
            with (
                cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy,
                files[table].open("rb") as handle,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
    seconds = time.perf_counter() - started
    if keep:
        return seconds, files
    for path in files.values():
        path.unlink()
    return seconds, {}


def setup() -> tuple[Any, Any]:
    """A primary school of Futian with CLASSES grade-1 classes, and its registrar."""
    from xueji.access.models import Role
    from xueji.schools.models import SchoolClass
    from xueji.testing.factories import SchoolFactory, academic_year, member

    school = SchoolFactory(code="2144999001", name="基准测试第一小学")
    year = academic_year(2026)
    SchoolClass.objects.bulk_create(
        SchoolClass(school=school, academic_year=year, grade=1, number=n, name=f"{n}班")
        for n in range(1, CLASSES + 1)
    )
    return school, member(Role.REGISTRAR, school=school, username="bench-registrar")


def import_file(path: Path, registrar: Any) -> dict[str, Any]:
    """Upload and import synchronously (django-tasks' immediate backend); seconds, peak RSS."""
    from django.test import override_settings

    from xueji.imports.services import import_job_create

    immediate = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    rss_at_start = rss_now_mb()
    rss_reset()
    children_before = _children_peak_mb()
    started = time.perf_counter()
    # Files of a million rows are larger than a school's upload limit.
    with override_settings(TASKS=immediate, XUEJI_IMPORT_MAX_MB=2048), path.open("rb") as handle:
        job = import_job_create(
            actor=registrar,
            purpose="students",
            upload=handle,
            filename=path.name,
            size=path.stat().st_size,
        )
    seconds = time.perf_counter() - started
    assert job.state == "imported", (job.state, job.message, job.errors[:5])
    from xueji.imports.services import import_dir

    (import_dir() / job.stored_path).unlink(missing_ok=True)  # the kept upload
    return {
        "seconds": seconds,
        "rows": job.rows_written,
        "peak_rss_mb": rss_peak_mb(),
        "rss_at_start_mb": rss_at_start,
        "workers_peak_rss_mb": _children_peak_mb(),
        # getrusage keeps the largest child of the whole run: unchanged, this import's workers
        # peaked no higher than an earlier import's.
        "workers_peak_rss_is_upper_bound": 0 < children_before >= _children_peak_mb(),
    }


def _children_peak_mb() -> float:
    """The largest peak RSS of a finished child: the forked workers that check the rows (their
    pages shared with this process copy-on-write are counted in full)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def reset(school: Any) -> None:
    """Remove the imported students so that the next file imports into an empty school."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM students_recordevent WHERE student_id IN "
            "(SELECT id FROM students_student WHERE school_id = %s)",
            [school.pk],
        )
        cursor.execute("DELETE FROM students_placement WHERE school_id = %s", [school.pk])
        cursor.execute(
            "DELETE FROM students_familymember WHERE student_id IN "
            "(SELECT id FROM students_student WHERE school_id = %s)",
            [school.pk],
        )
        cursor.execute("DELETE FROM students_student WHERE school_id = %s", [school.pk])
        cursor.execute("VACUUM ANALYZE students_student")
        cursor.execute("CHECKPOINT")


def run(
    xlsx_rows: int,
    csv_rows: int,
    seed: int = 2026,
    breakdown_url: str | None = None,
    xlsx_shared_rows: int = 0,
) -> dict[str, Any]:
    """With `breakdown_url` (the bench database's), the CSV's floor is also broken down."""
    from xueji.imports import columns as cols

    width = len(cols.fields_of(cols.STUDENTS))
    school, registrar = setup()
    ids_run = id_run()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="xueji-bench-imports-") as tmp:
        folder = Path(tmp)
        # The .xlsx with shared strings last: its file is written by a child process that
        # holds every cell, and the children's peak RSS (the workers') can only grow.
        for label, count in (
            ("xlsx", xlsx_rows),
            ("csv", csv_rows),
            ("xlsx-shared", xlsx_shared_rows),
        ):
            if count <= 0:
                continue
            print(f"  files: {count:,} rows", flush=True)
            generated = time.perf_counter()
            files = write_files(count, seed, ids_run, folder, label)
            generated = time.perf_counter() - generated
            bare = bare_copy(files["csv"], width)
            print(f"  bare COPY of {count:,} rows: {bare:.1f} s", flush=True)
            measured = import_file(files[label], registrar)
            print(
                f"  import of the {label}: {measured['seconds']:.1f} s, "
                f"peak RSS {measured['peak_rss_mb']:.0f} MB",
                flush=True,
            )
            breaking_down = label == "csv" and breakdown_url is not None
            floor, copies = floor_copy(school, folder, keep=breaking_down)
            print(f"  floor (the written rows COPYed back): {floor:.1f} s", flush=True)
            results[label] = {
                "rows": count,
                "file_megabytes": files[label].stat().st_size / 1e6,
                "generate_seconds": generated,
                "bare_copy_seconds": bare,
                "bare_copy_rows_per_second": count / bare,
                "import_seconds": measured["seconds"],
                "import_rows_per_second": count / measured["seconds"],
                "ratio_to_bare_copy": measured["seconds"] / bare,
                "floor_seconds": floor,
                "floor_ratio_to_bare_copy": floor / bare,
                "ratio_to_floor": measured["seconds"] / floor,
                "peak_rss_mb": measured["peak_rss_mb"],
                "rss_at_start_mb": measured["rss_at_start_mb"],
                "workers_peak_rss_mb": measured["workers_peak_rss_mb"],
                "workers_peak_rss_is_upper_bound": measured["workers_peak_rss_is_upper_bound"],
            }
            if breaking_down:
                results[label]["breakdown"] = break_down_floor(copies, breakdown_url, bare)
            for path in [*files.values(), *copies.values()]:
                path.unlink()
            reset(school)
    return results


def break_down_floor(copies: dict[str, Path], url: str, bare: float) -> dict[str, dict[str, float]]:
    """bench.floor_breakdown on the floor's COPY texts, in a copy of the bench database."""
    from django.db import connections

    from bench.floor_breakdown import CASES, breakdown

    print("  floor breakdown (a throw-away copy of the database):", flush=True)
    # CREATE DATABASE … TEMPLATE needs the bench database free of sessions; Django reconnects.
    connections.close_all()
    seconds = breakdown(copies, url)
    out = {}
    for case, spent in seconds.items():
        out[case] = {"seconds": spent, "ratio_to_bare_copy": spent / bare}
        print(f"    {CASES[case]}: {spent:.1f} s ({spent / bare:.1f}× bare COPY)", flush=True)
    return out


LABELS = {
    "xlsx": ".xlsx (inline strings)",
    "xlsx-shared": ".xlsx (shared strings, as Excel saves it)",
    "csv": "CSV",
}


def rows_of(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Lines of the bench table (bench/report.py)."""
    lines = []
    for label, title in LABELS.items():
        if label in results:
            r = results[label]
            lines.append(
                (
                    f"import of a {r['rows']:,}-row {title} of new students "
                    f"(peak RSS {r['peak_rss_mb']:.0f} MB)",
                    f"{r['import_seconds']:.1f} s ({r['import_rows_per_second']:,.0f} rows/s)",
                    f"bare COPY {r['bare_copy_seconds']:.1f} s",
                    f"{r['ratio_to_bare_copy']:.1f}×",
                )
            )
    return lines


def markdown(results: dict[str, Any]) -> list[str]:
    """The section of bench/RESULTS.md."""
    return [
        "",
        "## Spreadsheet imports in this run",
        "",
        *table(results),
        "",
        "- **import**: `xueji.imports.services.import_job_create` with the job run at once "
        "(safety checks, SHA-256, every cell through the registration form's rules column by "
        "column in forked workers, the valid rows' COPY text staged in temporary tables, the "
        "duplicates within the file and against the registry found with two queries, then one "
        "`INSERT … SELECT` per table: students, family members, placements, `registered` "
        "events; one audit entry, one transaction). Peak RSS is the importing process's over "
        "the import; worker RSS the largest worker's (pages shared copy-on-write with the "
        "parent counted in full).",
        "- **bare COPY**, the baseline: the same CSV rows into a plain table of text columns "
        "(no checks, keys or indexes), one transaction.",
        "- **floor**: the rows the import wrote, copied out, deleted and COPYed back with every "
        "key, index, constraint and trigger in place, COMMIT included: what PostgreSQL alone "
        "needs for these rows in this schema.",
        *breakdown_table(results),
    ]


def table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| import | rows | import s | rows/s | bare COPY s | ratio | floor s (ratio) "
        "| import / floor | peak RSS MB | worker RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label in LABELS:
        if label in results:
            r = results[label]
            lines.append(
                f"| {label} | {r['rows']:,} | {r['import_seconds']:.1f} | "
                f"{r['import_rows_per_second']:,.0f} | {r['bare_copy_seconds']:.1f} | "
                f"{r['ratio_to_bare_copy']:.1f}× | {r['floor_seconds']:.1f} "
                f"({r['floor_ratio_to_bare_copy']:.1f}×) | {r['ratio_to_floor']:.2f}× | "
                f"{r['peak_rss_mb']:.0f} | "
                f"{'≤' if r.get('workers_peak_rss_is_upper_bound') else ''}"
                f"{r.get('workers_peak_rss_mb', 0):.0f} |"
            )
    return lines


def breakdown_table(results: dict[str, Any]) -> list[str]:
    """The CSV floor's breakdown (`--breakdown`), if it was measured."""
    cases = results.get("csv", {}).get("breakdown")
    if not cases:
        return []
    from bench.floor_breakdown import CASES

    return [
        "",
        "Floor of the CSV broken down (`--breakdown`): the same COPYs, COMMIT included, into a "
        "throw-away copy of the database, each case dropping more of the four tables' "
        "invariants:",
        "",
        "| floor | s | ratio to bare COPY |",
        "|---|---:|---:|",
        *(
            f"| {CASES[case]} | {c['seconds']:.1f} | {c['ratio_to_bare_copy']:.1f}× |"
            for case, c in cases.items()
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the imports bench alone on a fresh database."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.imports", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument(
        "--xlsx-shared-rows",
        type=int,
        default=100_000,
        help="rows of the .xlsx written with a shared strings table, as Excel saves it",
    )
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time the CSV's floor without foreign keys, indexes, triggers, checks",
    )
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    # Made now: a run is long, and its figures are written only at its end.
    args.output.mkdir(parents=True, exist_ok=True)

    from bench import database

    url = os.environ.get("BENCH_DATABASE_URL") or urlunsplit(
        urlsplit(database.bench_url())._replace(path="/xueji_bench_imports")
    )
    with database.django_on(url, fresh=True, keep=args.keep_database):
        results = run(
            args.xlsx_rows,
            args.csv_rows,
            args.seed,
            breakdown_url=url if args.breakdown else None,
            xlsx_shared_rows=args.xlsx_shared_rows,
        )
    out = args.output / f"imports-{args.xlsx_rows}-{args.csv_rows}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print("\n".join(table(results) + breakdown_table(results)))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
