"""Large files are checked by forked worker processes on PostgreSQL; what is written and what
is reported are the same as when one process checks every row."""

import datetime

import pytest
from django.test import override_settings

from xueji.core import codes
from xueji.core.crypto import blind_index
from xueji.core.idnumbers import make_resident_id
from xueji.imports import pipeline, services, xlsx
from xueji.imports.models import JobState
from xueji.imports.pipeline import chunk, staging
from xueji.imports.tests.sheets import many_students, row_of, xls_bytes, xlsx_bytes
from xueji.students.identity import DOCUMENT_INDEX
from xueji.students.models import FamilyMember, Placement, RecordEvent, Student
from xueji.testing.factories import student_data

pytestmark = pytest.mark.django_db


def test_small_files_and_sqlite_are_checked_in_this_process(settings):  # type: ignore[no-untyped-def]
    assert pipeline.check_workers(pipeline.PARALLEL_MIN_ROWS - 1) == 1
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert pipeline.check_workers(1_000_000) == 1


def _bad_rows() -> list[list[object]]:
    rows = [row_of(data) for data in many_students(700)]
    # The bad phone's child has a number of its own: the factory's random default (440304, a
    # random day) could equal one of the 700 generated numbers, a fourth error by chance.
    born = datetime.date(2019, 10, 1)
    rows[5] = row_of(
        student_data(
            phone="not a phone",
            birth_date=born,
            sex=codes.Sex.MALE,
            id_number=make_resident_id("440304", born, 901),
        )
    )
    rows[333] = list(rows[20])  # the same child twice
    rows[650][rows[650].index("1 男")] = "9 其他"
    return rows


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_workers_report_the_errors_one_process_reports(upload, school, monkeypatch, kind):  # type: ignore[no-untyped-def]
    content = (xlsx_bytes if kind == "xlsx" else xls_bytes)(_bad_rows())
    serial = upload(content, filename=f"serial.{kind}")
    monkeypatch.setattr(services, "check_workers", lambda total: 2)
    # Many chunks in flight: an .xlsx's slices, an .xls's lists of rows.
    monkeypatch.setattr(xlsx, "XLSX_SLICE_BYTES", 8192)
    monkeypatch.setattr(chunk, "CHUNK_ROWS", 16)
    forked = upload(content, filename=f"forked.{kind}")
    assert serial.state == forked.state == JobState.INVALID
    assert serial.error_count == forked.error_count == 3
    assert forked.errors == serial.errors
    assert Student.objects.count() == 0


@pytest.mark.postgres
@override_settings(XUEJI_IMPORT_MAX_MB=50)
def test_workers_write_every_row_once(upload, school, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "check_workers", lambda total: 2)
    monkeypatch.setattr(xlsx, "XLSX_SLICE_BYTES", 8192)
    monkeypatch.setattr(staging, "BATCH_ROWS", 100)
    children = list(many_students(700))
    job = upload(xlsx_bytes([row_of(data) for data in children]))
    assert job.state == JobState.IMPORTED, job.errors[:3]
    assert job.rows_written == Student.objects.filter(school=school).count() == 700
    assert FamilyMember.objects.count() == sum(len(c.family) for c in children)
    assert Placement.objects.count() == RecordEvent.objects.count() == 700
    # Every child's row is there, with its own number's blind index and the pinyin of its name.
    for data in children[::97]:
        student = Student.objects.get(
            id_number_index=blind_index(
                f"{data.id_doc_type}:{data.id_number}", context=DOCUMENT_INDEX
            )
        )
        assert student.name == data.name and student.name_pinyin
        assert student.birth_date == data.birth_date
    assert len(set(Student.objects.values_list("id", flat=True))) == 700
