"""Loading students: xueji's ways against a bare COPY of the same rows into plain tables.

Three timings of the same million rows (students, two family members each, placements):

- synth: `xueji synth` end to end: schools and classes, generating the rows in Python, COPY into
  the real tables, building their indexes and keys, ANALYZE, commit;
- reload: the same rows, exported from the loaded tables (untimed) and loaded again into the
  emptied real tables the way synth loads them (indexes and keys built after COPY, ANALYZE): the
  cost of the schema, without the cost of inventing the rows;
- bare COPY: the same rows into plain tables without indexes or constraints, in one transaction:
  the floor.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connection, transaction

from xueji.demo import bulkload, synth
from xueji.demo.services import SynthResult, students_synthesize

PROVINCE = "440000"
CHUNK = 1 << 20


def checkpoint() -> None:
    """Flush dirty buffers so that one phase does not pay for the writes of the one before."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def run_synth(students: int, seed: int) -> SynthResult:
    started = time.perf_counter()
    last = [started]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage == "students" and (now - last[0] > 10 or done == total):
            last[0] = now
            print(f"    {done:>11,} / {total:,} students ({now - started:.0f} s)", flush=True)
        elif stage == "indexes":
            print(f"    building {total} indexes and keys ({now - started:.0f} s)", flush=True)

    return students_synthesize(
        actor=None, province_code=PROVINCE, students=students, seed=seed, progress=progress
    )


def export_rows() -> dict[str, bytes]:
    """The loaded rows in COPY text format, held in memory so that reading them costs nothing."""
    exported = {}
    with connection.cursor() as cursor:
        for table, columns in synth.TABLES:
            chunks = []
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) TO STDOUT") as copy:
                for data in copy:
                    chunks.append(bytes(data))
            exported[table] = b"".join(chunks)
    return exported


def _copy_in(cursor: Any, table: str, columns: tuple[str, ...], data: bytes) -> None:
    view = memoryview(data)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, len(view), CHUNK):
            copy.write(view[start : start + CHUNK])


def bare_copy(exported: dict[str, bytes]) -> float:
    """COPY of the rows into plain tables (no indexes, no constraints) in one transaction."""
    with connection.cursor() as cursor:
        for table, _columns in synth.TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS bench_plain_{table}")
            cursor.execute(
                f"CREATE TABLE bench_plain_{table} AS SELECT * FROM {table} WITH NO DATA"
            )
    checkpoint()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns in synth.TABLES:
            _copy_in(cursor, f"bench_plain_{table}", columns, exported[table])
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table, _columns in synth.TABLES:
            cursor.execute(f"DROP TABLE bench_plain_{table}")
    return seconds


def reload(exported: dict[str, bytes]) -> dict[str, Any]:
    """Empty the real tables (untimed), then load the same rows as synth loads them."""
    tables = [table for table, _columns in synth.TABLES]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    checkpoint()
    phases: dict[str, float] = {}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        deferred = bulkload.drop(cursor, tables)
        phase = time.perf_counter()
        for table, columns in synth.TABLES:
            _copy_in(cursor, table, columns, exported[table])
        phases["copy"] = time.perf_counter() - phase
        phase = time.perf_counter()
        bulkload.recreate(cursor, deferred)
        phases["build indexes and keys"] = time.perf_counter() - phase
        phase = time.perf_counter()
        cursor.execute(f"ANALYZE {', '.join(tables)}")
        phases["analyze"] = time.perf_counter() - phase
    return {
        "seconds": time.perf_counter() - started,
        "phases": phases,
        "index_timings": sorted(deferred.timings, key=lambda item: -item[1]),
    }
