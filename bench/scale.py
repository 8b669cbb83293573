"""Storage per 1,000,000 children, by table, measured (docs/scale.md).

    python -m bench.scale --students 100000     # its own database, dropped at the end

Synthesizes N children (xueji synth: schools, classes, children, two family members each,
placements, the head-count rollup), fills the hub's national index from them as a hub would hold
them (two entries per child, document and number, and the sealed matching keys), runs VACUUM
ANALYZE, and prints each table's size (heap, indexes, TOAST) and its bytes per child, scaled to
1,000,000 children, to the largest province (20,000,000) and to the nation on 32 nodes
(200,000,000), as JSON and as a Markdown table. Measure two sizes to see that it is linear.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from bench import database

PROVINCE = 20_000_000
NATION = 200_000_000

HUB_FILL = """
DELETE FROM federation_indexentry;
DELETE FROM federation_matchkey;
INSERT INTO federation_indexentry
    (kind, index, province, record, school_name, number_masked, state, reserved_at, confirmed_at)
SELECT 'number', s.number_index, '44', s.id, sc.name, s.number_masked, 'confirmed', now(), now()
FROM students_student s JOIN schools_school sc ON sc.id = s.school_id
UNION ALL
SELECT 'document', s.id_number_index, '44', s.id, sc.name, s.number_masked, 'confirmed', now(),
       now()
FROM students_student s JOIN schools_school sc ON sc.id = s.school_id
WHERE s.id_number_index <> '';
INSERT INTO federation_matchkey (record, province, keys_index, parents, school_name, number_masked)
SELECT s.id, '44', md5(s.name_pinyin || s.birth_date || s.sex) || md5(s.id::text),
       coalesce((SELECT jsonb_agg(f.id_number_index) FROM students_familymember f
                 WHERE f.student_id = s.id AND f.id_number_index <> ''), '[]'::jsonb),
       sc.name, s.number_masked
FROM students_student s JOIN schools_school sc ON sc.id = s.school_id;
"""

SIZES = """
SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid), pg_indexes_size(c.oid),
       pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_total_relation_size(c.oid) > 65536
ORDER BY pg_total_relation_size(c.oid) DESC
"""


def measure(students: int) -> dict[str, Any]:
    from django.db import connection

    from bench import load

    started = time.perf_counter()
    if students:  # 0: measure what the database holds (--existing)
        load.run_synth(students, seed=25)
    synth_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(HUB_FILL)
    connection.commit() if not connection.get_autocommit() else None
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT count(*) FROM students_student")
        children = cursor.fetchone()[0]
        cursor.execute(SIZES)
        tables = [
            {
                "table": name,
                "rows": rows,
                "heap": heap,
                "indexes": indexes,
                "total": total,
                "per_million": round(total * 1_000_000 / children),
            }
            for name, rows, heap, indexes, total in cursor.fetchall()
        ]
    hub_tables = {"federation_indexentry", "federation_matchkey"}
    node = sum(t["total"] for t in tables if t["table"] not in hub_tables)
    hub = sum(t["total"] for t in tables if t["table"] in hub_tables)
    return {
        "children": children,
        "synth_seconds": round(synth_seconds, 1),
        "tables": tables,
        "node_bytes_per_million": round(node * 1_000_000 / children),
        "hub_bytes_per_million": round(hub * 1_000_000 / children),
        "province_20m_bytes": round(node * PROVINCE / children),
        "nation_node_bytes": round(node * NATION / children),
        "hub_index_bytes_nation": round(hub * NATION / children),
    }


def _gb(value: float) -> str:
    return f"{value / 1e9:,.2f} GB"


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Measured on {result['children']:,} children (`python -m bench.scale --students "
        f"{result['children']}`); bytes include indexes and TOAST.",
        "",
        "| table | rows | heap | indexes | total | per 1,000,000 children |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for t in result["tables"]:
        lines.append(
            f"| {t['table']} | {t['rows']:,} | {t['heap'] / 1e6:,.1f} MB | "
            f"{t['indexes'] / 1e6:,.1f} MB | {t['total'] / 1e6:,.1f} MB | "
            f"{t['per_million'] / 1e6:,.1f} MB |"
        )
    lines += [
        "",
        f"- a provincial node: {_gb(result['node_bytes_per_million'])} per 1,000,000 children; "
        f"the largest province (20,000,000): {_gb(result['province_20m_bytes'])}; the nation's "
        f"nodes together (200,000,000): {_gb(result['nation_node_bytes'])}",
        f"- the hub's national index (two entries and the matching keys per child): "
        f"{_gb(result['hub_bytes_per_million'])} per 1,000,000; for the nation "
        f"{_gb(result['hub_index_bytes_nation'])}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--existing",
        action="store_true",
        help="use BENCH_DATABASE_URL as it is (migrated already): neither recreated nor dropped",
    )
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL") or (
        "postgres://postgres@127.0.0.1:5432/xueji_bench_scale"
    )
    fresh = not args.existing
    with database.django_on(url, fresh=fresh, keep=args.keep, migrate=fresh):
        result = measure(args.students)
    print(json.dumps(result, indent=1))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
