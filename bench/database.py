"""The bench's own PostgreSQL database: created fresh for a run and dropped after it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/xueji_bench"
# The bench drops and recreates its database: it refuses any name that is not obviously its own.
REQUIRED_IN_NAME = "bench"


class BenchDatabaseError(Exception):
    pass


def bench_url() -> str:
    """BENCH_DATABASE_URL, else DATABASE_URL's server with the database xueji_bench, else the
    local default. Never the database DATABASE_URL names (the test suite's)."""
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(base)
        return urlunsplit(parts._replace(path="/xueji_bench"))
    return DEFAULT_URL


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if REQUIRED_IN_NAME not in name:
        raise BenchDatabaseError(
            f"refusing to drop and recreate database {name!r}: its name must contain "
            f"{REQUIRED_IN_NAME!r} (set BENCH_DATABASE_URL)"
        )
    return name


def _maintenance_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def recreate(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextmanager
def django_on(url: str, *, fresh: bool, keep: bool, migrate: bool = True) -> Iterator[None]:
    """Set Django up on `url`; when `fresh`, recreate it first and drop it after unless `keep`."""
    if fresh:
        print(f"Bench database {database_name(url)}: recreating", flush=True)
        recreate(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # As in production: DEBUG keeps a log of every query, which is not what is being measured.
    os.environ["XUEJI_DEBUG"] = "0"
    try:
        import django

        django.setup()
        if migrate:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        yield
    finally:
        # Only a database this run created is dropped: a loaded one, given or found, is kept for
        # the next run.
        if fresh and not keep:
            from django.db import connections

            connections.close_all()
            drop(url)
