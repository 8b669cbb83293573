"""Intake lists imported through xueji.yearend's intake_admit: the file is all or nothing, each
problem named by its row."""

import csv
import io
from typing import Any

import pytest

from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.services import import_job_create
from xueji.students.models import RecordState, Student
from xueji.yearend.models import RunKind
from xueji.yearend.services import run_execute, run_plan, run_start
from xueji.yearend.tests.conftest import FROM_YEAR, Registry, registry  # noqa: F401

pytestmark = pytest.mark.django_db


def _graduate(actor: Any) -> None:
    # Whatever day the suite runs: outside the promotion period the run must be confirmed.
    run = run_plan(
        actor=actor,
        kind=RunKind.GRADUATE,
        scope="440304",
        from_year=FROM_YEAR,
        outside_period_confirmed=True,
    )
    run_start(actor=actor, run_id=run.pk, enqueue=False, outside_period_confirmed=True)
    run_execute(run_id=run.pk)


def _intake_csv(lines: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f.header for f in cols.fields_of(cols.INTAKE)])
    writer.writerows(lines)
    return out.getvalue().encode("gb18030")


def _upload(actor: Any, content: bytes) -> Any:
    return import_job_create(
        actor=actor, purpose="intake", upload=io.BytesIO(content), filename="intake.csv",
        size=len(content),
    )  # fmt: skip


def test_an_intake_list_admits_the_graduates(registry: Registry) -> None:  # noqa: F811
    _graduate(registry.approver)
    children = [registry.student(0, 6), registry.student(1, 6)]
    lines = [[7, 1, child.reveal_student_number(), child.name] for child in children]
    job = _upload(registry.registrars[2], _intake_csv(lines))
    assert job.state == JobState.IMPORTED, job.errors
    assert job.rows_written == 2
    for child in children:
        child.refresh_from_db()
        assert (child.school_id, child.state) == (registry.junior.pk, RecordState.ENROLLED)


def test_one_bad_line_admits_nobody_and_names_its_row(registry: Registry) -> None:  # noqa: F811
    _graduate(registry.approver)
    good = registry.student(0, 6)
    still_enrolled = registry.student(0, 5)
    lines = [
        [7, 1, good.reveal_student_number(), good.name],
        [7, 1, still_enrolled.reveal_student_number(), still_enrolled.name],
        [7, 9, good.reveal_student_number(), good.name],
    ]
    job = _upload(registry.registrars[2], _intake_csv(lines))
    assert job.state == JobState.INVALID
    assert {(row, code) for row, _c, _v, code, *_m in job.errors} == {
        (3, "not_a_graduate"),
        (4, "class_not_found"),
    }
    good.refresh_from_db()
    assert good.school_id != registry.junior.pk
    assert not Student.objects.filter(school=registry.junior).exists()
