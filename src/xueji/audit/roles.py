"""The application's role in PostgreSQL: it owns no table and may only read and append to the
audit trail.

Migrations run as the owner of the tables (XUEJI_OWNER_DATABASE_URL); after each one, the
application role (XUEJI_APP_DB_ROLE) is given what it needs and no more: reads and writes of every
table of the application, but on the audit trail's tables only SELECT and INSERT, so that it can
neither edit, delete nor TRUNCATE an entry or a checkpoint. The retention purge is a function
owned by the owner (SECURITY DEFINER), which the application may call and cannot change.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections

# The trail's tables: the application appends to them and reads them, nothing else.
AUDIT_TABLE_PREFIX = "audit_"
# Of those, the ones it only reads: purges are recorded by the purge function (owned by the
# owner), the frozen head and anchor of the single chain of before by the migrations.
AUDIT_READ_ONLY = ("audit_auditpurge", "audit_auditchainhead", "audit_auditlegacyanchor")


def application_role() -> str:
    return str(getattr(settings, "XUEJI_APP_DB_ROLE", "") or "")


def grant_application_role(*, using: str, role: str | None = None) -> bool:
    """Give the application role its privileges on the tables as they now are; False when
    there is nothing to do (SQLite, no separate role, or the role is the one connected)."""
    connection = connections[using]
    role = role if role is not None else application_role()
    if connection.vendor != "postgresql" or not role:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            return False
        quoted = connection.ops.quote_name(role)
        # Tables and partitions ("p": attendance's months), which table_names leaves out and
        # which a reader of a partition alone (pg_dump) needs granted too.
        tables = [
            info.name
            for info in connection.introspection.get_table_list(cursor)
            if info.type in ("t", "p")
        ]
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        for table in tables:
            name = connection.ops.quote_name(table)
            if table.startswith(AUDIT_TABLE_PREFIX):
                cursor.execute(f"REVOKE ALL ON {name} FROM {quoted}")
                granted = "SELECT" if table in AUDIT_READ_ONLY else "SELECT, INSERT"
                cursor.execute(f"GRANT {granted} ON {name} TO {quoted}")
            else:
                cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {quoted}")
    return True


def grant_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate: the grants follow every migration (a new table is granted at once)."""
    grant_application_role(using=using)


def role_problems(*, using: str = "default") -> list[str]:
    """What is wrong with the role the application connects as (empty when it is right)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        superuser, bypass = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
            "AND tableowner = current_user"
        )
        owned = cursor.fetchone()[0]
    problems = []
    if superuser or bypass:
        problems.append("the application connects as a superuser, who can disable any trigger")
    if owned:
        problems.append(
            f"the application's role owns {owned} tables: an owner can drop the audit trail's "
            "triggers and TRUNCATE it"
        )
    return problems
