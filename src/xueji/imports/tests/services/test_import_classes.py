"""An imported job keeps how many records it wrote into each class (one GROUP BY over what it
wrote, in its own transaction); a job that wrote nothing keeps nothing."""

import csv
import io
from typing import Any

import pytest

from xueji.audit.models import AuditEntry
from xueji.imports import columns as cols
from xueji.imports import services, xlsx
from xueji.imports.models import ImportJob, JobState
from xueji.imports.pipeline import staging
from xueji.imports.services import import_job_create, import_job_run
from xueji.imports.tests.sheets import many_students, row_of, xlsx_bytes
from xueji.schools.models import SchoolClass
from xueji.students.models import Placement, Student
from xueji.testing.factories import student_data
from xueji.yearend.tests.conftest import registry  # noqa: F401

pytestmark = pytest.mark.django_db

NAMES = [f"张{a}{b}" for a in "春夏秋冬" for b in "明亮华伟强"]


def _class(school: Any, grade: int, number: int) -> int:
    return SchoolClass.objects.get(school=school, grade=grade, number=number).pk


def test_an_import_into_two_classes_keeps_both_counts(upload, school):
    rows = [row_of(student_data(name=NAMES[n]), class_number=1 + (n < 3)) for n in range(5)]
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.IMPORTED, job.errors
    one, two = _class(school, 1, 1), _class(school, 1, 2)
    assert sorted(job.classes) == sorted([[one, 2], [two, 3]])
    stored = ImportJob.objects.get(pk=job.pk)
    assert sorted(stored.classes) == sorted([[one, 2], [two, 3]])
    placed = Placement.objects.filter(school=school, end_date__isnull=True)
    assert {c: placed.filter(school_class_id=c).count() for c in (one, two)} == {one: 2, two: 3}
    entry = AuditEntry.objects.get(action="import.students")
    assert sorted(entry.detail["classes"]) == sorted([[one, 2], [two, 3]])


def test_a_refused_file_keeps_no_classes(upload, school):
    rows = [row_of(student_data(name=NAMES[n]), class_number=1 + n % 2) for n in range(4)]
    rows.append(row_of(student_data(name="张3")))
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.INVALID
    assert job.classes == [] and ImportJob.objects.get(pk=job.pk).classes == []


def test_a_file_imported_twice_keeps_its_classes_once(upload, school):
    content = xlsx_bytes([row_of(student_data(name=NAMES[0]))])
    first = upload(content)
    again = upload(content, filename="again.xlsx")
    assert first.state == JobState.IMPORTED and len(first.classes) == 1
    assert again.state == JobState.DUPLICATE and again.classes == []


def test_a_failed_import_keeps_no_classes(registrar, school, monkeypatch):
    content = xlsx_bytes([row_of(student_data(name=NAMES[0]))])
    job = import_job_create(
        actor=registrar, purpose="students", upload=io.BytesIO(content), filename="f.xlsx",
        size=len(content), enqueue=False,
    )  # fmt: skip
    real = services.audit_record

    def audit_fails(**kwargs: Any) -> Any:
        if kwargs["action"] == "import.students":
            raise RuntimeError("the audit trail is down")
        return real(**kwargs)

    # The failure comes after the classes were counted: they must not be kept.
    monkeypatch.setattr(services, "audit_record", audit_fails)
    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.classes == [] and job.rows_written == 0
    assert not Student.objects.filter(school=school).exists()


def _updates(lines: list[dict[str, Any]]) -> bytes:
    fields = cols.fields_of(cols.UPDATES)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f.header for f in fields])
    for line in lines:
        writer.writerow([line.get(f.key, "") for f in fields])
    return out.getvalue().encode("utf-8-sig")


def test_an_updates_import_keeps_the_updated_records_by_class(upload, registrar, school):
    rows = [row_of(student_data(name=NAMES[n]), class_number=1 + (n < 2)) for n in range(4)]
    assert upload(xlsx_bytes(rows)).state == JobState.IMPORTED
    students = list(Student.objects.filter(school=school).order_by("name"))
    content = _updates(
        [
            {"student_number": s.reveal_student_number(), "name": s.name, "phone": "13900139000"}
            for s in students[:3]
        ]
    )
    job = import_job_create(
        actor=registrar, purpose="updates", upload=io.BytesIO(content), filename="u.csv",
        size=len(content),
    )  # fmt: skip
    assert job.state == JobState.IMPORTED, job.errors
    expected: dict[int, int] = {}
    for student in students[:3]:
        class_id = Placement.objects.get(student=student, end_date__isnull=True).school_class_id
        expected[class_id] = expected.get(class_id, 0) + 1
    assert sorted(job.classes) == sorted([pk, n] for pk, n in expected.items())
    assert sum(n for _pk, n in job.classes) == job.rows_written == 3


@pytest.mark.postgres
def test_forked_workers_keep_the_same_counts(upload, school, monkeypatch):
    monkeypatch.setattr(services, "check_workers", lambda total: 2)
    monkeypatch.setattr(xlsx, "XLSX_SLICE_BYTES", 8192)
    monkeypatch.setattr(staging, "BATCH_ROWS", 50)
    rows = [row_of(data, class_number=1 + n % 2) for n, data in enumerate(many_students(301))]
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.IMPORTED, job.errors[:3]
    assert sorted(job.classes) == sorted([[_class(school, 1, 1), 151], [_class(school, 1, 2), 150]])


def test_an_intake_list_keeps_the_class_it_admitted_into(registry: Any) -> None:  # noqa: F811
    from xueji.imports.tests.services.test_import_intake import _graduate, _intake_csv, _upload

    _graduate(registry.approver)
    children = [registry.student(0, 6), registry.student(1, 6)]
    lines = [[7, 1, child.reveal_student_number(), child.name] for child in children]
    job = _upload(registry.registrars[2], _intake_csv(lines))
    assert job.state == JobState.IMPORTED, job.errors
    assert job.classes == [[registry.junior_class.pk, 2]]
