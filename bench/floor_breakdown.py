"""The import's floor broken down: the same COPYs into a copy of the schema with fewer invariants.

Given the COPY texts of the rows an import wrote (bench.imports.floor_copy keeps them), a
throw-away copy of the bench database (`CREATE DATABASE <bench>_breakdown TEMPLATE <bench>`)
takes them back in one transaction, COMMIT included, once per case of CASES, each case dropping
more of the four tables' invariants than the one before:

- as_is: every key, index, constraint and trigger (the floor itself);
- no_foreign_keys: the foreign keys dropped;
- no_secondary_indexes: also the non-unique indexes dropped and the stats_rollup_* triggers
  disabled;
- primary_keys_only: also the unique indexes and constraints and the CHECK constraints dropped.

Between cases the rows are deleted again (by their primary keys, read from the same COPY texts),
the tables vacuumed and a checkpoint taken. The copy is dropped at the end, even on error.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench import database

CASES = {
    "as_is": "as is: every key, index, constraint and trigger",
    "no_foreign_keys": "without foreign keys",
    "no_secondary_indexes": "without foreign keys, non-unique indexes, stats triggers",
    "primary_keys_only": "primary keys only (no unique index, no CHECK)",
}
CHUNK = 1 << 20


def breakdown(files: Mapping[str, Path], database_url: str) -> dict[str, float]:
    """Seconds per case of CASES to COPY `files` (table: COPY text) back, COMMIT included."""
    name = database.database_name(database_url)
    parts = urlsplit(database_url)
    copy_url = urlunsplit(parts._replace(path=f"/{name}_breakdown"))
    # A copy left behind by an interrupted run would make CREATE DATABASE fail.
    database.drop(copy_url)
    with psycopg.connect(
        urlunsplit(parts._replace(path="/postgres")), autocommit=True
    ) as connection:
        # Fails if anyone (Django included) is still connected to the bench database.
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(f"{name}_breakdown"), sql.Identifier(name)
            )
        )
    try:
        with psycopg.connect(copy_url, autocommit=True) as connection:
            return _measure(connection, files)
    finally:
        database.drop(copy_url)


def _measure(connection: psycopg.Connection, files: Mapping[str, Path]) -> dict[str, float]:
    tables = list(files)
    keys = _keys(connection, files)
    # The template holds the rows already: the floor COPYed them back and committed.
    _delete(connection, keys)
    seconds = {}
    for case in CASES:
        for statement in _drops(connection, case, tables):
            connection.execute(statement)
        _settle(connection, tables)
        seconds[case] = _copy(connection, files)
        _delete(connection, keys)
    return seconds


def _keys(connection: psycopg.Connection, files: Mapping[str, Path]) -> dict[str, sql.Composed]:
    """Temporary tables of the primary keys in the COPY texts; per table the DELETE of them."""
    deletes = {}
    for n, (table, path) in enumerate(files.items()):
        columns = [
            row[0]
            for row in connection.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
                [table],
            )
        ]
        assert columns, f"{table} has no primary key"
        staged, kept = sql.Identifier(f"bench_staged_{n}"), sql.Identifier(f"bench_keys_{n}")
        connection.execute(
            sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {})").format(staged, sql.Identifier(table))
        )
        _copy_file(connection.cursor(), staged, path)
        connection.execute(
            sql.SQL("CREATE TEMPORARY TABLE {} AS SELECT {} FROM {}").format(
                kept, sql.SQL(", ").join(map(sql.Identifier, columns)), staged
            )
        )
        # Only the keys are needed: the full rows would fill temp_buffers for nothing.
        connection.execute(sql.SQL("DROP TABLE {}").format(staged))
        connection.execute(sql.SQL("ANALYZE {}").format(kept))
        deletes[table] = sql.SQL("DELETE FROM {} t USING {} k WHERE {}").format(
            sql.Identifier(table),
            kept,
            sql.SQL(" AND ").join(
                sql.SQL("t.{0} = k.{0}").format(sql.Identifier(c)) for c in columns
            ),
        )
    return deletes


def _delete(connection: psycopg.Connection, keys: Mapping[str, sql.Composed]) -> None:
    """Delete just the COPYed rows, referencing tables first."""
    with connection.transaction():
        for statement in reversed(list(keys.values())):
            connection.execute(statement)


def _settle(connection: psycopg.Connection, tables: list[str]) -> None:
    """Dead rows vacuumed and dirty buffers flushed: no case pays for the one before."""
    for table in tables:
        connection.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    connection.execute("CHECKPOINT")


def _copy(connection: psycopg.Connection, files: Mapping[str, Path]) -> float:
    started = time.perf_counter()
    # Autocommit connection: transaction() is BEGIN … COMMIT, and the COMMIT runs the deferred
    # foreign-key checks, so it belongs in the timing.
    with connection.transaction(), connection.cursor() as cursor:
        for table, path in files.items():
            _copy_file(cursor, sql.Identifier(table), path)
    return time.perf_counter() - started


def _copy_file(cursor: psycopg.Cursor, table: sql.Identifier, path: Path) -> None:
    with (
        cursor.copy(sql.SQL("COPY {} FROM STDIN").format(table)) as copy,
        path.open("rb") as handle,
    ):
        while chunk := handle.read(CHUNK):
            copy.write(chunk)


def _drops(connection: psycopg.Connection, case: str, tables: list[str]) -> list[sql.Composed]:
    """The DDL that takes the schema from the case before `case` to `case`."""
    if case == "no_foreign_keys":
        return [_drop_constraint(t, c) for t, c in _constraints(connection, tables, "f")]
    if case == "no_secondary_indexes":
        triggers = connection.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgname LIKE 'stats\\_rollup\\_%%' "
            "AND tgrelid::regclass::text = ANY(%s)",
            [tables],
        )
        return [
            *(
                sql.SQL("DROP INDEX {}").format(sql.Identifier(index))
                for _table, index, backs, unique in _indexes(connection, tables)
                if not unique and backs is None
            ),
            *(
                sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
                    sql.Identifier(table), sql.Identifier(trigger)
                )
                for table, trigger in triggers
            ),
        ]
    if case == "primary_keys_only":
        # CASCADE: a foreign key of another table on one of these unique keys would block the
        # drop, and it checks nothing when rows are added to these tables.
        return [
            *(
                sql.SQL("DROP INDEX {} CASCADE").format(sql.Identifier(index))
                if backs is None
                else sql.SQL("{} CASCADE").format(_drop_constraint(table, backs))
                for table, index, backs, _unique in _indexes(connection, tables)
            ),
            *(_drop_constraint(t, c) for t, c in _constraints(connection, tables, "c")),
        ]
    return []


def _constraints(
    connection: psycopg.Connection, tables: list[str], kind: str
) -> list[tuple[str, str]]:
    return connection.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE contype = %s AND conrelid::regclass::text = ANY(%s)",
        [kind, tables],
    ).fetchall()


def _indexes(
    connection: psycopg.Connection, tables: list[str]
) -> list[tuple[str, str, str | None, bool]]:
    """The tables' indexes but the primary keys: table, index, the constraint it backs, unique."""
    return connection.execute(
        "SELECT i.indrelid::regclass::text, x.relname, c.conname, i.indisunique "
        "FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid "
        "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
        "AND c.contype IN ('u', 'x') "
        "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary",
        [tables],
    ).fetchall()


def _drop_constraint(table: str, name: str) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
        sql.Identifier(table), sql.Identifier(name)
    )
