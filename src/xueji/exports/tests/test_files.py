"""A table's file goes out only with the export permission (the reveal permission to unmask),
and every one is audited."""

import pytest

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.exports.files import export_table
from xueji.geo.models import Division
from xueji.testing.exports import COLUMNS, RESIDENT, ROWS, xlsx_parts
from xueji.testing.factories import member


@pytest.mark.django_db
def test_export_table_needs_the_export_permission_and_is_audited():
    futian = Division.objects.get(code="440304")
    viewer = member(Role.BUREAU_VIEWER, division=futian)
    exported = export_table(
        actor=viewer, name="学生名单 2026", columns=COLUMNS, rows=ROWS, fmt="csv"
    )
    assert exported.filename == "学生名单 2026.csv"
    assert exported.content_type.startswith("text/csv")
    assert RESIDENT not in exported.content.decode("utf-8-sig")
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == viewer
    assert entry.detail == {
        "table": "学生名单 2026",
        "format": "csv",
        "rows": 2,
        "columns": ["name", "id_number", "student_number", "note", "count"],
        "revealed": False,
    }
    with pytest.raises(PermissionRefused):
        export_table(
            actor=member(Role.AUDITOR, division=futian),
            name="x",
            columns=COLUMNS,
            rows=[],
            fmt="csv",
        )


@pytest.mark.django_db
def test_revealing_needs_the_reveal_permission_and_is_recorded():
    futian = Division.objects.get(code="440304")
    with pytest.raises(PermissionRefused):
        export_table(
            actor=member(Role.BUREAU_VIEWER, division=futian),
            name="x",
            columns=COLUMNS,
            rows=ROWS,
            fmt="xlsx",
            reveal=True,
        )
    approver = member(Role.BUREAU_APPROVER, division=futian)
    exported = export_table(
        actor=approver, name="x", columns=COLUMNS, rows=ROWS, fmt="xlsx", reveal=True
    )
    assert RESIDENT in xlsx_parts(exported.content)[1]
    assert AuditEntry.objects.get(action="export", actor=approver).detail["revealed"] is True
    assert not AuditEntry.objects.filter(action="export", detail__revealed=False).exists()
