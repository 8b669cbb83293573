"""Fixtures of the audit tests: entries written the real way, and an attacker's raw SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction

from xueji.audit.models import AuditEntry
from xueji.audit.services import audit_record
from xueji.testing.database import owner_configured

AUDIT_TABLES = (
    "audit_auditentry",
    "audit_auditchain",
    "audit_auditcheckpoint",
    "audit_auditcheckpointleaf",
    "audit_auditpurge",
    "audit_auditlegacyanchor",
    "audit_auditchainhead",
)


@pytest.fixture(autouse=True)
def _witness_file(settings: Any, tmp_path: Path) -> Path:
    """Each test keeps its witness file of its own (the checkpoint copied outside the
    database), not the one in var/."""
    path = tmp_path / "audit-witness.json"
    settings.XUEJI_AUDIT_WITNESS_FILE = str(path)
    return path


@pytest.fixture
def write_entries(db: Any) -> Callable[..., list[AuditEntry]]:
    """Append `count` entries, each in its own transaction as a service would."""

    def write(count: int, *, actor: Any = None, action: str = "test.write") -> list[AuditEntry]:
        written = []
        for number in range(count):
            with transaction.atomic():
                written.append(audit_record(actor=actor, action=action, detail={"number": number}))
        return written

    return write


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Under the two roles of .ci/run the attacker is the owner of the tables, on a connection
    of their own: what the test wrote must be committed for them to see it."""
    if not owner_configured():
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here) and "attacker_sql" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.django_db(transaction=True), append=False)


def _alter_triggers(cursor: Any, change: str) -> None:
    # ALTER TABLE waits for no deferred checks: run the pending ones first.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table in AUDIT_TABLES:
        cursor.execute(f"ALTER TABLE {table} {change} TRIGGER USER")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def attacker_sql(db: Any) -> Iterator[Callable[[str, list[Any] | None], None]]:
    """Run SQL as someone with direct database access: on PostgreSQL the table owner, who must
    first disable the append-only triggers (and they come back on afterwards). Where the tests
    run as the application's role, the owner acts on a connection of their own."""
    if owner_configured():
        owner = settings.DATABASES["owner"]
        with (
            psycopg.connect(
                host=owner.get("HOST") or None,
                port=owner.get("PORT") or None,
                user=owner.get("USER") or None,
                password=owner.get("PASSWORD") or None,
                dbname=connection.settings_dict["NAME"],
                autocommit=True,
            ) as attacker,
            attacker.cursor() as cursor,
        ):
            _alter_triggers(cursor, "DISABLE")

            def run_as_owner(sql: str, params: list[Any] | None = None) -> None:
                cursor.execute(sql, params or [])

            yield run_as_owner
            _alter_triggers(cursor, "ENABLE")
        return
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            _alter_triggers(cursor, "DISABLE")

        def run(sql: str, params: list[Any] | None = None) -> None:
            cursor.execute(sql, params or [])

        yield run
        if postgres:
            _alter_triggers(cursor, "ENABLE")
