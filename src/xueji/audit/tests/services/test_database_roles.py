"""As the application's role on PostgreSQL (README, Security): the trail can be read and appended
to, and nothing else; the role can neither take the owner's place nor switch a trigger off.

These run where .ci/run runs them: the tests connected as the application role, migrations made
by the owner (XUEJI_OWNER_DATABASE_URL)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from xueji.audit.models import AuditEntry
from xueji.audit.roles import role_problems
from xueji.audit.services import audit_record
from xueji.testing.database import owner_configured

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif(
        not owner_configured(), reason="needs the two roles (XUEJI_OWNER_DATABASE_URL)"
    ),
]


def _refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    return str(refused.value)


@pytest.fixture
def entry() -> AuditEntry:
    with transaction.atomic():
        return audit_record(actor=None, action="test.write", detail={"n": 1})


def test_the_application_role_is_no_superuser_and_owns_no_table() -> None:
    assert role_problems() == []


def test_it_reads_and_appends_to_the_trail(entry: AuditEntry) -> None:
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_it_may_not_edit_delete_or_truncate_an_entry(entry: AuditEntry) -> None:
    assert "permission denied" in _refused(
        f"UPDATE audit_auditentry SET action = 'forged' WHERE id = {entry.pk}"
    )
    assert "permission denied" in _refused(f"DELETE FROM audit_auditentry WHERE id = {entry.pk}")
    assert "permission denied" in _refused("TRUNCATE audit_auditentry")
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.write"


def test_it_may_not_switch_the_triggers_off_nor_become_the_owner() -> None:
    assert "must be owner" in _refused("ALTER TABLE audit_auditentry DISABLE TRIGGER ALL")
    owner = settings.DATABASES["owner"]["USER"]
    assert "permission denied" in _refused(f'SET ROLE "{owner}"')
    assert "must be owner" in _refused("DROP TABLE audit_auditentry")


def test_it_writes_the_application_s_own_tables() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege('students_student', 'UPDATE, DELETE')")
        assert cursor.fetchone()[0] is True
        cursor.execute("SELECT has_table_privilege('students_student', 'TRUNCATE')")
        assert cursor.fetchone()[0] is False
