"""A table's file goes out only with the export permission (the reveal permission to unmask),
and every one is audited."""

import io
import zipfile

import pytest

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.core.exports import MASK_ID_NUMBER, MASK_STUDENT_NUMBER, Column
from xueji.exports.files import export_table
from xueji.geo.models import Division
from xueji.testing.factories import member

RESIDENT = "11010520100305002X"

COLUMNS = [
    Column("name", "Name"),
    Column("id_number", "ID number", MASK_ID_NUMBER),
    Column("student_number", "Student number", MASK_STUDENT_NUMBER),
    Column("note", "Note"),
    Column("count", "Count"),
]
ROWS = [
    {
        "name": '=HYPERLINK("http://evil.example","点这里")',
        "id_number": RESIDENT,
        "student_number": "G" + RESIDENT,
        "note": f"mentions {RESIDENT} in passing",
        "count": -3,
    },
    {"name": "张春铭", "id_number": None, "student_number": "", "note": "@SUM(A1)", "count": 7},
]


def xlsx_parts(content: bytes) -> tuple[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return (
            archive.read("xl/worksheets/sheet1.xml").decode(),
            archive.read("xl/sharedStrings.xml").decode(),
        )


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
