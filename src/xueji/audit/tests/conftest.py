"""Fixtures of the audit tests: entries written the real way, and an attacker's raw SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from xueji.audit.models import AuditEntry
from xueji.audit.services import audit_record

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


@pytest.fixture
def attacker_sql(db: Any) -> Iterator[Callable[[str, list[Any] | None], None]]:
    """Run SQL as someone with direct database access: on PostgreSQL the table owner, who must
    first disable the append-only triggers (and they come back on afterwards)."""
    postgres = connection.vendor == "postgresql"

    def alter_triggers(cursor: Any, change: str) -> None:
        # ALTER TABLE waits for no deferred checks: run the pending ones first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} {change} TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    with connection.cursor() as cursor:
        if postgres:
            alter_triggers(cursor, "DISABLE")

        def run(sql: str, params: list[Any] | None = None) -> None:
            cursor.execute(sql, params or [])

        yield run
        if postgres:
            alter_triggers(cursor, "ENABLE")
