"""Imports while the registry moves to another cryptographic suite: a child whose record still
carries the old suite's index is a duplicate of the registry all the same, and an update by
student number finds it."""

import csv
import io

import pytest

from xueji.core import crypto
from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.services import import_job_create
from xueji.imports.tests.sheets import csv_bytes, row_of, xlsx_bytes
from xueji.students.models import Student
from xueji.testing.crypto import Suites
from xueji.testing.factories import student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def suites(monkeypatch):
    yield Suites(monkeypatch)
    crypto.reset_keyring()


@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes], ids=["xlsx", "csv"])
def test_a_child_indexed_under_the_old_suite_is_a_duplicate_of_the_registry(
    upload, school, suites, make
):
    suites.use("intl")
    registered = student_data(name="王五")
    with_error = student_data(name="赵六")
    assert upload(xlsx_bytes([row_of(registered), row_of(with_error)])).state == JobState.IMPORTED
    assert Student.objects.filter(id_number_sealed__startswith="v1.").count() == 2

    suites.use("sm")  # before `xueji rotate_keys` has moved them
    rows = [
        row_of(student_data(name="张三")),
        row_of(student_data(name="王五", id_number=registered.id_number)),
        row_of(student_data(name="赵六", id_number=with_error.id_number), phone="bad phone"),
    ]
    job = upload(make(rows), filename="s." + ("xlsx" if make is xlsx_bytes else "csv"))
    assert job.state == JobState.INVALID
    assert sorted((error[0], error[3]) for error in job.errors) == [
        (3, "id_number_registered"),
        (4, "id_number_registered"),
        (4, "invalid_phone"),
    ]
    assert Student.objects.filter(school=school).count() == 2


def test_an_update_finds_a_record_not_yet_moved_by_its_number(upload, school, registrar, suites):
    suites.use("intl")
    assert upload(xlsx_bytes([row_of(student_data(name="李华"))])).state == JobState.IMPORTED
    student = Student.objects.get(school=school)
    suites.use("sm")
    fields = cols.fields_of(cols.UPDATES)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f.header for f in fields])
    line = {
        "student_number": student.reveal_student_number(),
        "name": "李华",
        "phone": "13900139000",
    }
    writer.writerow([line.get(f.key, "") for f in fields])
    content = out.getvalue().encode("utf-8-sig")
    job = import_job_create(
        actor=registrar, purpose="updates", upload=io.BytesIO(content), filename="u.csv",
        size=len(content),
    )  # fmt: skip
    assert job.state == JobState.IMPORTED, job.errors
    student.refresh_from_db()
    assert student.phone == "13900139000"
