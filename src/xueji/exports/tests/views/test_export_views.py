"""Rosters and the records list as CSV and XLSX: streamed, masked by default, audited."""

import csv
import io
import zipfile

import pytest

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.exports.tests.conftest import register
from xueji.schools.models import SchoolClass
from xueji.testing.factories import member
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(school, registrar):  # type: ignore[no-untyped-def]
    # The form's rules refuse = + @ in names, but not a leading minus: a formula to Excel.
    return register(school, registrar, ("张春铭", "李华", "-王芳"))


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_records_list_is_streamed_masked_and_audited(registered, school):
    county = member(Role.BUREAU_VIEWER, division=school.county)
    response = client_as(county).get("/exports/students.csv")
    assert response.status_code == 200 and response.streaming
    lines = _csv(response)
    assert lines[0][:2] == ["全国学籍号", "姓名"] and len(lines) == 4
    plain = {s.reveal_id_number() for s in registered}
    text = "\n".join(",".join(line) for line in lines)
    assert not any(number in text for number in plain)
    assert all("********" in line[0] and "********" in line[6] for line in lines[1:])
    assert "'-王芳" in [line[1] for line in lines[1:]]
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["rows"] == 3 and entry.detail["revealed"] is False


def test_revealing_needs_the_permission(registered, school, registrar):
    county = member(Role.BUREAU_VIEWER, division=school.county)
    assert client_as(county).get("/exports/students.csv?reveal=1").status_code == 403
    response = client_as(registrar).get("/exports/students.csv?reveal=1")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert all(s.reveal_id_number() in text for s in registered)
    assert AuditEntry.objects.get(action="export").detail["revealed"] is True


def test_a_class_roster_as_xlsx(registered, school, registrar):
    school_class = SchoolClass.objects.get(school=school, grade=1, number=1)
    response = client_as(registrar).get(f"/exports/classes/{school_class.pk}/roster.xlsx")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "张春铭" in sheet
    assert "&apos;-王芳" in sheet or "'-王芳" in sheet


def test_out_of_scope_rosters_answer_404(registered, school):
    from xueji.testing.factories import SchoolFactory

    school_class = SchoolClass.objects.get(school=school, grade=1, number=1)
    stranger = member(Role.REGISTRAR, school=SchoolFactory())
    assert (
        client_as(stranger).get(f"/exports/classes/{school_class.pk}/roster.csv").status_code == 404
    )
    assert client_as(stranger).get("/exports/students.pdf").status_code == 404
