"""COPY's text format: values escaped, booleans and timestamps spelled, and lines of it loaded
into a table (COPY on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

import datetime
import re
from functools import cache
from typing import Any

from django.apps import apps
from django.db import connection

COPY_BOOL = {True: "t", False: "f"}


def now_text(*, postgres: bool) -> str:
    """The time now as COPY text of a timestamp column (SQLite keeps it naive, in UTC)."""
    now = datetime.datetime.now(datetime.UTC)
    if postgres:
        return now.isoformat(sep=" ")
    return now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def copy_escape(value: str) -> str:
    """Text in COPY's text format (imported text may hold tabs, newlines, backslashes)."""
    if _COPY_SPECIAL.search(value) is None:
        return value
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _unescape(value: str) -> str | None:
    if value == "\\N":
        return None
    if "\\" not in value:
        return value
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m[1], m[1]), value)


def copy_lines(table: str, columns: tuple[str, ...], lines: list[str], *, like: str) -> None:
    """Rows in COPY's text format into a table with the columns of the table `like`: COPY on
    PostgreSQL, executemany on SQLite."""
    if not lines:
        return
    # wrap_database_errors: a unique violation raised by COPY (the raw driver's cursor) becomes
    # Django's IntegrityError, as from any other statement.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write("\n".join(lines))
                copy.write("\n")
            return
        booleans = _boolean_columns(like, columns)
        rows = []
        for line in lines:
            values: list[Any] = [_unescape(value) for value in line.split("\t")]
            for position in booleans:
                values[position] = values[position] == "t"
            rows.append(values)
        connection.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            rows,
        )


@cache
def _boolean_columns(table: str, columns: tuple[str, ...]) -> tuple[int, ...]:
    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    kinds = {f.column: f.get_internal_type() for f in model._meta.concrete_fields}
    return tuple(n for n, column in enumerate(columns) if kinds.get(column) == "BooleanField")
