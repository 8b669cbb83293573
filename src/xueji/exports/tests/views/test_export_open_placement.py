"""Grade and class in the records export are those of the open placement, read by one join (not
a subquery per row, which made a province's million records three times as slow): a record
that moved is written once, in its class now; a record without an open placement once, with
grade and class blank."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xueji.access.models import Role
from xueji.exports.tests.conftest import class_of
from xueji.students.models import Placement, PlacementReason, RecordState, Student
from xueji.students.services import student_register
from xueji.testing.factories import member, student_data
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def pupils(school: Any, registrar: Any) -> dict[str, Student]:
    """张春铭 stays in 1-1; 李华 moved from 1-1 to 1-2; 王芳 left (no open placement)."""
    first = class_of(school, 1, 1)
    pupils = {
        name: student_register(
            actor=registrar, school_class_id=first.pk, data=student_data(name=name)
        ).student
        for name in ("张春铭", "李华", "王芳")
    }
    today = datetime.date.today()
    moved, left = pupils["李华"], pupils["王芳"]
    Placement.objects.filter(student=moved, end_date__isnull=True).update(end_date=today)
    second = class_of(school, 1, 2)
    Placement.objects.create(
        student=moved,
        school=school,
        school_class=second,
        grade=1,
        start_date=today,
        reason=PlacementReason.CLASS_CHANGE,
    )
    Placement.objects.filter(student=left, end_date__isnull=True).update(end_date=today)
    Student.objects.filter(pk=left.pk).update(state=RecordState.WITHDRAWN)
    return pupils


def _rows(response: Any) -> dict[str, tuple[str, str]]:
    """{name: (grade, class)}, checking that no name comes twice."""
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    header = lines[0]
    name, grade, school_class = header.index("姓名"), header.index("年级"), header.index("班级")
    rows = [(line[name], (line[grade], line[school_class])) for line in lines[1:]]
    assert len(rows) == len(dict(rows))
    return dict(rows)


def test_grade_and_class_are_those_of_the_open_placement(pupils, registrar):
    rows = _rows(client_as(registrar).get("/exports/students.csv"))
    assert rows == {"张春铭": ("一年级", "1班"), "李华": ("一年级", "2班"), "王芳": ("", "")}


def test_a_county_reads_the_same_rows(pupils, school):
    county = member(Role.BUREAU_VIEWER, division=school.county)
    rows = _rows(client_as(county).get("/exports/students.csv"))
    assert rows == {"张春铭": ("一年级", "1班"), "李华": ("一年级", "2班"), "王芳": ("", "")}


def test_the_rows_are_read_with_a_join_not_a_subquery_per_row(pupils, registrar):
    with CaptureQueriesContext(connection) as queries:
        response = client_as(registrar).get("/exports/students.csv")
        _rows(response)
    [statement] = [q["sql"] for q in queries.captured_queries if "number_masked" in q["sql"]]
    assert "LEFT OUTER JOIN" in statement
    assert statement.count("SELECT") == 1, statement
