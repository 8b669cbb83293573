"""The roll's tables partitioned by month on PostgreSQL (declarative partitioning).

`attendance_rollcall` (one row per class and day the roll was taken) and `attendance_absence`
(one row per child absent or late) are `PARTITION BY RANGE (day)`, one partition per calendar
month (`attendance_absence_y2026m09` holds September 2026) and a default partition catching a
day outside the months made. The primary key is (id, day) — a partitioned table's unique keys
hold the partition key — and the unique keys (class, day) and (child, day) include it anyway.
SQLite keeps plain tables; everything here does nothing there.

A month is archived or dropped as a whole, without touching the others:

    xueji attendance_partitions --ensure 2027-09:2028-08     # make the months ahead
    xueji attendance_partitions --detach 2025-09             # ALTER TABLE … DETACH PARTITION
    pg_dump -t attendance_absence_y2025m09 -t attendance_rollcall_y2025m09 …   # archive
    xueji attendance_partitions --drop 2025-09               # DROP TABLE of the detached month

A detached month's tables keep their rows (and can be attached again with
`ALTER TABLE attendance_absence ATTACH PARTITION attendance_absence_y2025m09 FOR VALUES FROM
('2025-09-01') TO ('2025-10-01')`); `--drop` drops only a detached month.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

TABLES = ("attendance_rollcall", "attendance_absence")

# Unique keys and indexes of the partitioned tables (the model's, made again on the parent).
_UNIQUE = {
    "attendance_rollcall": [("one_roll_per_class_day", "school_class_id, day")],
    "attendance_absence": [("one_absence_per_child_day", "student_id, day")],
}
_INDEXES = {
    "attendance_rollcall": [("roll_school_day", "school_id, day")],
    "attendance_absence": [
        ("absence_class_day", "school_class_id, day"),
        ("absence_school_day", "school_id, day"),
    ],
}

# The months made by the migration: five school years from September 2024.
FIRST_MONTH = (2024, 9)
MONTHS_AHEAD = 60


def months(first: tuple[int, int], count: int) -> Iterator[tuple[int, int]]:
    year, month = first
    for _ in range(count):
        yield year, month
        month += 1
        if month == 13:
            year, month = year + 1, 1


def partition_name(table: str, year: int, month: int) -> str:
    return f"{table}_y{year:04d}m{month:02d}"


def _bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    start = datetime.date(year, month, 1)
    end = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def _partition_exists(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return bool(cursor.fetchone()[0])


def month_ensure(connection: Any, year: int, month: int) -> list[str]:
    """Make the month's partitions (of both tables) unless they exist; the names made."""
    if connection.vendor != "postgresql":
        return []
    made = []
    start, end = _bounds(year, month)
    with connection.cursor() as cursor:
        for table in TABLES:
            name = partition_name(table, year, month)
            if _partition_exists(cursor, name):
                continue
            cursor.execute(
                f'CREATE TABLE "{name}" PARTITION OF "{table}" '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
            made.append(name)
    if made:
        # A month made after the migrations is the application role's to read and write as
        # the months the migrations made are (the grants follow every migration, not this).
        from xueji.audit.roles import grant_application_role

        grant_application_role(using=connection.alias)
    return made


def month_detach(connection: Any, year: int, month: int) -> list[str]:
    """Detach the month's partitions: their rows leave the roll, the tables stay."""
    if connection.vendor != "postgresql":
        return []
    detached = []
    with connection.cursor() as cursor:
        for table in TABLES:
            name = partition_name(table, year, month)
            cursor.execute(
                "SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relname = %s AND p.relname = %s",
                [name, table],
            )
            if cursor.fetchone():
                cursor.execute(f'ALTER TABLE "{table}" DETACH PARTITION "{name}"')
                detached.append(name)
    return detached


def month_drop(connection: Any, year: int, month: int) -> list[str]:
    """Drop the tables of a month detached before (never an attached one)."""
    if connection.vendor != "postgresql":
        return []
    dropped = []
    with connection.cursor() as cursor:
        for table in TABLES:
            name = partition_name(table, year, month)
            cursor.execute(
                "SELECT c.relispartition FROM pg_class c WHERE c.relname = %s AND c.relkind = 'r'",
                [name],
            )
            row = cursor.fetchone()
            if row is not None and not row[0]:
                cursor.execute(f'DROP TABLE "{name}"')
                dropped.append(name)
    return dropped


def partition_tables(apps: Any, schema_editor: Any) -> None:
    """Migration step: replace the plain (empty) tables by partitioned ones on PostgreSQL."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            foreign = cursor.fetchall()
            plain = f"{table}_plain"
            cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{plain}"')
            cursor.execute(
                f'CREATE TABLE "{table}" (LIKE "{plain}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
                " PARTITION BY RANGE (day)"
            )
            cursor.execute(f'DROP TABLE "{plain}"')
            cursor.execute(f'CREATE SEQUENCE "{table}_id_seq" OWNED BY "{table}".id')
            cursor.execute(
                f"ALTER TABLE \"{table}\" ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')"
            )
            cursor.execute(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY (id, day)'
            )
            for name, columns in _UNIQUE[table]:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" UNIQUE ({columns})')
            for name, definition in foreign:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            for name, columns in _INDEXES[table]:
                cursor.execute(f'CREATE INDEX "{name}" ON "{table}" ({columns})')
            cursor.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
    for year, month in months(FIRST_MONTH, MONTHS_AHEAD):
        month_ensure(connection, year, month)
