"""Exports of a province's records (xueji.exports.views.records) against a bare COPY of
the same rows, on PostgreSQL.

After `xueji synth` has loaded N students of one province (or on a database already holding
exactly N, reused as it is), for a provincial bureau approver (the role that may reveal):

- xueji: `GET /exports/students.csv` through django.test.Client (the whole request:
  middleware, scope, the search form, the count, the audit entry, the rows read through a
  server-side cursor, labels, masks and cell safety, CSV streamed); `/exports/students.xlsx`
  as a province's Excel file is made, in the background: the button's POST queues the job,
  the job is run in this process (as the worker runs it: the file written in constant
  memory) and the file downloaded from the job's page; masked and revealed (`?reveal=1`:
  every student number and ID number unsealed); the response consumed fully, its bytes and
  rows counted;
- baseline: a bare `COPY (SELECT …) TO STDOUT` of the same rows in the same order: the same
  columns, the masked numbers, grade and class of the open placement by a LEFT JOIN, the bytes
  discarded. Run just before and just after each export (their mean is the baseline), so that
  every ratio is of the same minutes.

Then the query alone, both ways: the open placement's grade and class as two correlated
subqueries (as export_views read them before) against one LEFT JOIN (FilteredRelation on the
open placement, which a partial unique index makes one per student), checked to return the
same rows in the same order; timed as the view reads them (Django's server-side cursor, 2,000
rows a fetch) and as SQL alone (COPY of each statement); and the masked CSV once more through
the view with its rows read the old way (export_views.record_rows patched), in the same run.

Peak RSS is the process's over one export (VmHWM reset before it); "at start" its RSS then.
`python -m bench.exports --rows 1000000` runs it (own database xueji_bench_exports unless
BENCH_DATABASE_URL or --database-url names another; reused when it already holds exactly that
many students, else recreated, loaded with synth and dropped at the end unless --keep-database).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.memory import rss_now_mb, rss_peak_mb, rss_reset
from bench.users import PROVINCE, province_member

CHUNK = 1 << 20

# The rows export_views.records writes for the province, in its order, with what a bare SQL
# statement can give: the masked numbers, the codes (not their labels), grade and class of the
# open placement by a join.
BARE_SQL = f"""
COPY (
  SELECT s.number_masked, s.name, s.sex, s.birth_date, s.ethnicity, s.id_doc_type,
         s.id_number_masked, sc.code, sc.name, p.grade, k.name, s.state
  FROM students_student s
  JOIN schools_school sc ON sc.id = s.school_id
  LEFT JOIN students_placement p ON p.student_id = s.id AND p.end_date IS NULL
  LEFT JOIN schools_schoolclass k ON k.id = p.school_class_id
  WHERE sc.province_id = '{PROVINCE}'
  ORDER BY s.id
) TO STDOUT
"""

CASES = (("csv", False), ("csv", True), ("xlsx", False), ("xlsx", True))
BEFORE = "CSV, masked, grade and class by subqueries (as before)"


def _label(fmt: str, reveal: bool) -> str:
    return f"{fmt.upper()}, {'revealed' if reveal else 'masked'}"


def approver() -> Any:
    """A provincial bureau approver: sees every record of the province and may reveal."""
    from xueji.access.models import Role

    return province_member("bench-exports-approver", Role.BUREAU_APPROVER)


def bare_copy() -> dict[str, Any]:
    """Seconds, bytes and rows of the bare COPY, its output discarded."""
    from django.db import connection

    size = rows = 0
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(BARE_SQL) as copy:
        for data in copy:
            size += len(data)
            rows += bytes(data).count(b"\n")
    return {"seconds": time.perf_counter() - started, "bytes": size, "rows": rows}


def _count_xlsx_rows(path: Path) -> tuple[int, bytes]:
    """Rows of the workbook's sheet (header included), read as a stream; and its first 64 KB."""
    rows = 0
    head = b""
    tail = b""
    with zipfile.ZipFile(path) as book, book.open("xl/worksheets/sheet1.xml") as sheet:
        while block := sheet.read(CHUNK):
            if len(head) < 65536:
                head += block[: 65536 - len(head)]
            data = tail + block
            rows += data.count(b"<row ")
            # A "<row " cut by the block's end is counted with the next block (four bytes
            # cannot hold a whole one, so none is counted twice).
            tail = data[-4:]
    return rows, head


def _written_in_the_background(client: Any, path: str) -> tuple[Any, float]:
    """An Excel file of a province as the page gets it: its button (POST) queues the job and
    answers with the job's page, the worker writes the file (export_job_run, here in this
    process, as `xueji db_worker` would), and the file is downloaded from the job. Also the
    seconds until the button's request answered."""
    from xueji.exports.services import export_job_run

    started = time.perf_counter()
    queued = client.post(path)
    answered = time.perf_counter() - started
    assert queued.status_code == 302, (queued.status_code, queued.content[:300])
    job_url = queued["Location"]
    job_id = job_url.rstrip("/").rsplit("/", 1)[-1]
    job = export_job_run(job_id=job_id)
    assert job.state == "ready", (job.state, job.message_en)
    return client.get(f"{job_url}file"), answered


def _downloaded(client: Any, path: str) -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.get(path)
    return response, time.perf_counter() - started


def export(client: Any, fmt: str, reveal: bool) -> dict[str, Any]:
    """One download through the view (an Excel file through its background job), consumed
    fully: seconds, bytes, rows, peak RSS."""
    path = f"/exports/students.{fmt}" + ("?reveal=1" if reveal else "")
    rss_at_start = rss_now_mb()
    rss_reset()
    size = lines = 0
    first_rows = None
    sample = b""
    with tempfile.TemporaryDirectory(prefix="xueji-bench-exports-") as tmp:
        saved = Path(tmp) / f"export.{fmt}"
        started = time.perf_counter()
        download = _written_in_the_background if fmt == "xlsx" else _downloaded
        response, answered = download(client, path)
        file_started = time.perf_counter() - started
        assert response.status_code == 200, (response.status_code, response.content[:300])
        with saved.open("wb") if fmt == "xlsx" else open(os.devnull, "wb") as out:
            for chunk in response.streaming_content:
                size += len(chunk)
                if fmt == "csv":
                    lines += chunk.count(b"\r\n")
                    if first_rows is None and b"\r\n" in chunk:
                        first_rows = time.perf_counter() - started
                    if len(sample) < 4096:
                        sample += chunk[: 4096 - len(sample)]
                else:
                    out.write(chunk)
        response.close()
        seconds = time.perf_counter() - started
        peak = rss_peak_mb()
        if fmt == "xlsx":
            lines, sample = _count_xlsx_rows(saved)
    if fmt == "csv":
        # The data rows after the header line (the sample begins with the BOM and the header).
        first_data = sample.split(b"\r\n")[1] if sample.count(b"\r\n") > 1 else b""
        masked = b"********" in first_data
    else:
        masked = b"********" in sample
    if masked == reveal:
        state = "masked" if masked else "in full"
        raise RuntimeError(f"{_label(fmt, reveal)}: the first rows' numbers are {state}")
    return {
        "seconds": seconds,
        # Until the request answered: the CSV's headers, or the Excel job's page.
        "response_seconds": answered,
        "first_rows_seconds": first_rows if fmt == "csv" else file_started,
        "bytes": size,
        "rows": lines - 1,
        "rows_per_second": (lines - 1) / seconds,
        "peak_rss_mb": peak,
        "rss_at_start_mb": rss_at_start,
    }


# ---- the query alone: correlated subqueries against a join ------------------------------------


def _students(user: Any) -> Any:
    """The records the view selects for the user (no criteria), in its order."""
    from xueji.students.selectors import student_matches

    return student_matches(user).order_by("id")


def subquery_rows(students: Any) -> Any:
    """Grade and class of the open placement as two correlated subqueries (before the change)."""
    from django.db.models import OuterRef, Subquery

    from xueji.exports.records import FIELDS
    from xueji.students.models import Placement

    open_placement = Placement.objects.filter(student=OuterRef("pk"), end_date__isnull=True)
    return students.annotate(
        grade=Subquery(open_placement.values("grade")[:1]),
        class_name=Subquery(open_placement.values("school_class__name")[:1]),
    ).values(*FIELDS)


def join_rows(students: Any) -> Any:
    """Grade and class of the open placement by one LEFT JOIN (FilteredRelation), as the view
    reads them now."""
    from xueji.exports.records import record_values

    return record_values(students)


def _rows_by_subqueries(students: Any, reveal: bool) -> Iterator[dict[str, Any]]:
    """records.record_rows as it was: grade and class by two correlated subqueries."""
    from xueji.exports import records
    from xueji.students.identity import STUDENT_ID_NUMBER, STUDENT_NUMBER, unseal

    labels = records.code_labels()
    for row in subquery_rows(students).iterator(chunk_size=records.CHUNK):
        if reveal:
            row["number"] = unseal(row["number_sealed"], context=STUDENT_NUMBER)
            row["id_number"] = unseal(row["id_number_sealed"], context=STUDENT_ID_NUMBER)
        else:
            row["number"], row["id_number"] = row["number_masked"], row["id_number_masked"]
        records._labelled(row, labels)
        yield row


def _iterate(rows: Any) -> int:
    count = 0
    for _row in rows.iterator(chunk_size=2_000):
        count += 1
    return count


def _copy_statement(rows: Any) -> int:
    """The queryset's statement alone, as COPY … TO STDOUT, the bytes discarded."""
    from django.db import connection

    sql, params = rows.query.sql_with_params()
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy,
    ):
        for data in copy:
            count += bytes(data).count(b"\n")
    return count


def _same_rows(first: Any, second: Any) -> int:
    """Both querysets read side by side: the same rows in the same order (else an error)."""
    count = 0
    one, other = first.iterator(chunk_size=2_000), second.iterator(chunk_size=2_000)
    for a, b in zip(one, other, strict=True):
        if a != b:
            raise RuntimeError(f"row {count}: the join gives {b!r}, the subqueries {a!r}")
        count += 1
    return count


def compare_queries(user: Any, repeats: int, expected: int) -> dict[str, Any]:
    """Seconds of each way, read as the view reads it and as SQL alone, alternating."""
    students = _students(user)
    ways: dict[str, Callable[[], int]] = {
        "subqueries, ORM": lambda: _iterate(subquery_rows(students)),
        "join, ORM": lambda: _iterate(join_rows(students)),
        "subqueries, SQL": lambda: _copy_statement(subquery_rows(students)),
        "join, SQL": lambda: _copy_statement(join_rows(students)),
    }
    print("    the same rows both ways? (read side by side)", flush=True)
    same = _same_rows(subquery_rows(students), join_rows(students))
    if same != expected:
        raise RuntimeError(f"{same:,} rows read both ways, {expected:,} in scope")
    times: dict[str, list[float]] = {way: [] for way in ways}
    for repeat in range(repeats):
        order = list(ways.items())
        if repeat % 2:
            order.reverse()
        for way, call in order:
            started = time.perf_counter()
            rows = call()
            times[way].append(time.perf_counter() - started)
            if rows != expected:
                raise RuntimeError(f"{way}: {rows:,} rows, {expected:,} in scope")
            print(f"    {way}: {times[way][-1]:.1f} s", flush=True)
    results: dict[str, Any] = {"rows_checked_equal": same, "repeats": repeats}
    for way, samples in times.items():
        results[way] = {"seconds": samples, "median_seconds": statistics.median(samples)}
    return results


def _explain(rows: Any) -> list[str]:
    from django.db import connection

    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return [line for (line,) in cursor.fetchall()]


# ---- the run ----------------------------------------------------------------------------------


def measure(client: Any, fmt: str, reveal: bool, label: str, in_scope: int) -> dict[str, Any]:
    """One export between two bare COPYs (the baseline of the same minutes is their mean), its
    rows checked against the students in scope."""
    before = bare_copy()
    measured = export(client, fmt, reveal)
    after = bare_copy()
    for name, got in (("bare COPY", before["rows"]), (label, measured["rows"])):
        if got != in_scope:
            raise RuntimeError(f"{name}: {got:,} rows, {in_scope:,} in scope")
    base = (before["seconds"] + after["seconds"]) / 2
    measured["bare_copy_seconds"] = base
    measured["bare_copy_runs_seconds"] = [before["seconds"], after["seconds"]]
    measured["bare_copy_bytes"] = before["bytes"]
    measured["ratio"] = measured["seconds"] / base
    print(
        f"    {label}: {measured['seconds']:.1f} s ({measured['rows_per_second']:,.0f} "
        f"rows/s, answered after {measured['response_seconds']:.2f} s, first rows after "
        f"{measured['first_rows_seconds']:.1f} s), "
        f"bare COPY {before['seconds']:.1f} / {after['seconds']:.1f} s, "
        f"{measured['ratio']:.1f}×, peak RSS "
        f"{measured['peak_rss_mb']:.0f} MB (at start {measured['rss_at_start_mb']:.0f})",
        flush=True,
    )
    return measured


def run(repeats: int = 2, queries: bool = True) -> dict[str, Any]:
    """The four exports; with `queries`, also the masked CSV as the view read it before (grade
    and class by subqueries) and the query alone both ways."""
    from unittest import mock

    from django.db import connection
    from django.test import Client, override_settings

    from xueji.access.policy import Action
    from xueji.exports import views as export_views
    from xueji.schools.models import School
    from xueji.students.selectors import students_in_scope

    user = approver()
    in_scope = students_in_scope(user, Action.STUDENT_VIEW_LIST).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM students_student")
        (loaded,) = cursor.fetchone()
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    print(f"    {in_scope:,} students in the approver's scope ({loaded:,} loaded)", flush=True)
    results: dict[str, Any] = {
        "students_in_scope": in_scope,
        "students_loaded": loaded,
        "exports": {},
    }
    client = Client()
    client.force_login(user)
    # Bureau accounts need their authenticator app in a browser; the bench signs in as tests do.
    with override_settings(XUEJI_TWO_FACTOR_REQUIRED=False):
        bare_copy()  # warm: the first read of the tables after the load
        # Warm: the first request imports and compiles what every later one reuses.
        school = School.objects.filter(province_id=PROVINCE).values_list("code", flat=True)[0]
        for fmt in ("csv", "xlsx"):
            warm: Any = client.get(f"/exports/students.{fmt}?school={school}&reveal=1")
            assert warm.status_code == 200, warm.status_code
            for _chunk in warm.streaming_content if warm.streaming else ():
                pass
            warm.close()
        for fmt, reveal in CASES:
            label = _label(fmt, reveal)
            results["exports"][label] = measure(client, fmt, reveal, label, in_scope)
        if queries:
            # The same view with grade and class read as before the join, in the same run.
            label = BEFORE
            with mock.patch.object(export_views, "record_rows", _rows_by_subqueries):
                results["exports"][label] = measure(client, "csv", False, label, in_scope)
    if queries:
        print("  the query alone: correlated subqueries vs a join", flush=True)
        results["queries"] = compare_queries(user, repeats, in_scope)
        students = _students(user)
        results["plans"] = {
            "subqueries": _explain(subquery_rows(students)),
            "join": _explain(join_rows(students)),
        }
    return results


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, xueji, baseline, ratio) rows, as bench/report.py's table has them."""
    found = []
    n = results["students_in_scope"]
    for label, r in results["exports"].items():
        found.append(
            (
                f"export of a province's records ({n:,}), {label} (peak RSS "
                f"{r['peak_rss_mb']:.0f} MB, {r['rss_at_start_mb']:.0f} at start)",
                f"{r['seconds']:.1f} s ({r['rows_per_second']:,.0f} rows/s)",
                f"bare COPY {r['bare_copy_seconds']:.1f} s",
                f"{r['ratio']:.1f}×",
            )
        )
    return found


def table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| export | rows | s | rows/s | answered s | first rows s | MB | bare COPY s | ratio "
        "| peak RSS MB (at start) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in results["exports"].items():
        lines.append(
            f"| {label} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows_per_second']:,.0f} | "
            f"{r['response_seconds']:.2f} | {r['first_rows_seconds']:.1f} | "
            f"{r['bytes'] / 1e6:.0f} | "
            f"{r['bare_copy_seconds']:.1f} | {r['ratio']:.1f}× | "
            f"{r['peak_rss_mb']:.0f} ({r['rss_at_start_mb']:.0f}) |"
        )
    queries = results.get("queries")
    if queries:
        lines += [
            "",
            f"The query alone, {queries['rows_checked_equal']:,} rows (checked the same both "
            f"ways), median of {queries['repeats']}:",
            "",
            "| read | correlated subqueries s | LEFT JOIN s | ratio |",
            "|---|---:|---:|---:|",
        ]
        for how in ("ORM", "SQL"):
            sub = queries[f"subqueries, {how}"]["median_seconds"]
            join = queries[f"join, {how}"]["median_seconds"]
            what = (
                "as the view reads it (server-side cursor, 2,000 a fetch)"
                if how == "ORM"
                else "SQL alone (COPY of the statement)"
            )
            lines.append(f"| {what} | {sub:.1f} | {join:.1f} | {sub / join:.1f}× |")
    return lines


def markdown(results: dict[str, Any]) -> list[str]:
    """The section of bench/RESULTS.md."""
    return [
        "",
        "## Exports of a province's records in this run",
        "",
        *table(results),
        "",
        "- **xueji**: `GET /exports/students.csv` (export_views.records) by a provincial "
        "bureau approver through django.test.Client, the response consumed fully (middleware, "
        "scope, count, audit entry, server-side cursor, labels, masks, cell safety); "
        "`.xlsx` through its background job: the button's POST queues it, the job is run "
        "as the worker runs it (the file written in constant memory) and the file downloaded "
        "from the job's page, all three timed (\"answered\": when the button's request "
        'answered with the job\'s page; "first rows": when the download starts); '
        "revealed: `?reveal=1`, every student number and ID number unsealed. Peak RSS is the "
        "process's over the export.",
        "- **bare COPY**, the baseline: `COPY (SELECT …) TO STDOUT` of the same rows in the "
        "same order (masked numbers, codes, grade and class of the open placement by a LEFT "
        "JOIN), the bytes discarded; the mean of one run just before and one just after each "
        "export.",
    ]


def _students_loaded(url: str) -> int | None:
    """Students in the database at `url`; None when it does not exist or holds no schema."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            row = connection.execute("SELECT COUNT(*) FROM students_student").fetchone()
    except psycopg.Error:
        return None
    return None if row is None else int(row[0])


def main(argv: list[str] | None = None) -> int:
    """Run the exports bench alone."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.exports", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="students of the province")
    parser.add_argument("--repeats", type=int, default=2, help="of each way of the query")
    parser.add_argument(
        "--no-queries",
        action="store_true",
        help="skip subqueries vs join (and the CSV read the old way)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default="", help="default: xueji_bench_exports")
    parser.add_argument("--keep-database", action="store_true", help="when it was loaded here")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    # Made now: a run is long, and its figures are written only at its end.
    args.output.mkdir(parents=True, exist_ok=True)

    from bench import database

    url = (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or urlunsplit(urlsplit(database.bench_url())._replace(path="/xueji_bench_exports"))
    )
    name = database.database_name(url)
    fresh = _students_loaded(url) != args.rows
    if not fresh:
        print(f"Bench database {name}: {args.rows:,} students already loaded, reused", flush=True)
    # Migrated even when reused: it may have been loaded before the latest migrations.
    with database.django_on(url, fresh=fresh, keep=args.keep_database):
        if fresh:
            from bench import load

            print(f"Synth: {args.rows:,} students", flush=True)
            load.run_synth(args.rows, args.seed)
            load.checkpoint()
        print("Exports: the province's records through the view vs a bare COPY", flush=True)
        results = run(args.repeats, queries=not args.no_queries)
    out = args.output / f"exports-{args.rows}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print("\n".join(table(results)))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
