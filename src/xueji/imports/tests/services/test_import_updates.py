"""Updates of other information by student number: the registration rules, all or nothing."""

import csv
import io
from typing import Any

import pytest

from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.services import import_job_create
from xueji.imports.tests.sheets import row_of, xlsx_bytes
from xueji.students.models import EventKind, RecordEvent, Student
from xueji.testing.factories import student_data

pytestmark = pytest.mark.django_db


def _updates(lines: list[dict[str, Any]]) -> bytes:
    fields = cols.fields_of(cols.UPDATES)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f.header for f in fields])
    for line in lines:
        writer.writerow([line.get(f.key, "") for f in fields])
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture
def students(upload, school):  # type: ignore[no-untyped-def]
    rows = [row_of(student_data(name=name)) for name in ("张春铭", "李华", "王芳")]
    assert upload(xlsx_bytes(rows)).state == JobState.IMPORTED
    return {s.name: s for s in Student.objects.filter(school=school)}


def _run(registrar: Any, content: bytes) -> Any:
    return import_job_create(
        actor=registrar, purpose="updates", upload=io.BytesIO(content), filename="u.csv",
        size=len(content),
    )  # fmt: skip


def test_other_information_is_updated_with_an_event(registrar, students):
    a, b = students["张春铭"], students["李华"]
    content = _updates(
        [
            {"student_number": a.reveal_student_number(), "name": a.name,
             "address": "福田区福华路1号", "attendance_mode": "2 寄宿", "only_child": "是"},
            {"student_number": b.reveal_student_number(), "name": b.name, "phone": "13900139000"},
        ]
    )  # fmt: skip
    job = _run(registrar, content)
    assert job.state == JobState.IMPORTED, job.errors
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.address, a.attendance_mode, a.only_child) == ("福田区福华路1号", "2", True)
    assert b.phone == "13900139000"
    event = RecordEvent.objects.get(student=a, kind=EventKind.INFO_UPDATED)
    assert event.detail["fields"] == ["address", "attendance_mode", "only_child"]


def test_bad_values_wrong_names_and_strangers_write_nothing(registrar, students):
    a, b, c = students["张春铭"], students["李华"], students["王芳"]
    content = _updates(
        [
            {"student_number": a.reveal_student_number(), "name": a.name, "address": "新地址"},
            {"student_number": b.reveal_student_number(), "name": "王五", "address": "x"},
            {"student_number": a.reveal_student_number(), "name": a.name, "phone": "x"},
            {"student_number": "G440304200001010000", "name": "赵六"},
            {"student_number": c.reveal_student_number(), "name": c.name,
             "disability_type": "ZZ"},
        ]
    )  # fmt: skip
    job = _run(registrar, content)
    assert job.state == JobState.INVALID
    codes = {(row, code) for row, _c, _v, code, *_m in job.errors}
    assert codes == {
        (3, "name_mismatch"),
        (4, "duplicate_in_file"),
        (5, "student_not_found"),
        (6, "invalid_choice"),
    }
    a.refresh_from_db()
    assert a.address != "新地址"


def test_a_file_of_the_other_template_names_the_kind_to_choose(registrar, students, upload):
    # The registrar kept the form's kind ("new students") and uploaded an updates file, or the
    # other way round: the file is right, the choice is not, and "download the template and
    # copy the data into it" would send them to redo good work.
    a = students["张春铭"]
    updates = _updates([{"student_number": a.reveal_student_number(), "name": a.name}])
    as_students = upload(updates, filename="updates.csv")
    assert as_students.state == JobState.INVALID
    assert "choose “Updates of other (non-basic) information”" in as_students.message_en
    assert "“非基础信息更新”" in as_students.message and "下载模板" not in as_students.message
    content = xlsx_bytes([row_of(student_data(name="赵一"))])
    as_updates = import_job_create(
        actor=registrar, purpose="updates", upload=io.BytesIO(content), filename="new.xlsx",
        size=len(content),
    )  # fmt: skip
    assert as_updates.state == JobState.INVALID
    assert "choose “New students with their families”" in as_updates.message_en


def test_a_file_of_no_template_is_still_sent_to_the_template(registrar, students):
    job = _run(registrar, "姓名,电话\r\n张春铭,139\r\n".encode())
    assert job.state == JobState.INVALID
    assert "Download the template" in job.message_en


def test_a_recorded_value_that_breaks_todays_rules_does_not_stop_other_changes(registrar, students):
    """The pre-filled template writes every cell as recorded: an old value that would not pass
    today's rules is left as it is, and the row's real change is written."""
    a = students["张春铭"]
    Student.objects.filter(pk=a.pk).update(phone="x")  # recorded under older rules
    row = {"student_number": a.reveal_student_number(), "name": a.name, "phone": "x"}
    job = _run(registrar, _updates([{**row, "address": "福田区福华路2号"}]))
    assert job.state == JobState.IMPORTED, job.errors
    a.refresh_from_db()
    assert (a.address, a.phone) == ("福田区福华路2号", "x")
    # Typing that value anew is still refused.
    b = students["李华"]
    job = _run(
        registrar,
        _updates([{"student_number": b.reveal_student_number(), "name": b.name, "phone": "x"}]),
    )
    assert job.state == JobState.INVALID
    assert [(value, column) for _r, column, value, *_m in job.errors] == [
        ("x", [f.key for f in cols.fields_of(cols.UPDATES)].index("phone"))
    ]
