"""Formula cells are read as the value Excel saved, never evaluated; a file of 10,000 rows with
one bad row writes nothing."""

import datetime
import io

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from xueji.core.idnumbers import make_resident_id
from xueji.imports.models import JobState
from xueji.imports.tests.sheets import header, many_students, row_of, xlsx_bytes
from xueji.students.models import FamilyMember, Placement, RecordEvent, Student
from xueji.testing.factories import student_data

pytestmark = pytest.mark.django_db


def _with_formulas(row: list, formulas: dict[int, tuple[str, object]]) -> bytes:  # type: ignore[type-arg]
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet()
    for c, title in enumerate(header()):
        sheet.write_string(0, c, title)
    for c, value in enumerate(row):
        if c in formulas:
            formula, cached = formulas[c]
            sheet.write_formula(1, c, formula, None, cached)
        elif isinstance(value, int):
            sheet.write_number(1, c, value)
        else:
            sheet.write_string(1, c, str(value))
    workbook.close()
    return out.getvalue()


def test_calamine_returns_the_cached_value_of_a_formula():
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_formula(0, 0, "=1+1", None, 7)  # a cached value no evaluation would give
    sheet.write_formula(0, 1, '=HYPERLINK("http://evil.example/","点我")', None, "点我")
    sheet.write_formula(0, 2, "=1+1")  # no cached value: read as 0, not 2
    workbook.close()
    cells = CalamineWorkbook.from_filelike(io.BytesIO(out.getvalue())).get_sheet_by_index(0)
    assert cells.to_python()[0] == [7, "点我", 0]


def test_formula_cells_import_as_their_saved_values(upload, school):
    head = header()
    row = row_of(student_data(name="李小龙"))
    formulas = {
        head.index("姓名*"): ('=HYPERLINK("http://evil.example/","李小龙")', "李小龙"),
        head.index("年级*"): ("=0+1", 1),
    }
    job = upload(_with_formulas(row, formulas))
    assert job.state == JobState.IMPORTED, job.errors
    assert Student.objects.get(school=school).name == "李小龙"


def test_one_bad_row_in_10000_writes_nothing(upload, school):
    rows = [row_of(data) for data in many_students(10_000)]
    # A number of its own: the factory's default child shares a birth date, sex and county with
    # one of the generated children, and a duplicate would be a second error.
    own_number = make_resident_id("440305", datetime.date(2020, 3, 5), 999)
    rows[7_777] = row_of(student_data(phone="not a phone", id_number=own_number))
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.INVALID
    assert job.rows_total == 10_000 and job.error_count == 1, job.errors
    assert job.errors[0][0] == 7_779
    assert Student.objects.count() == 0
    assert FamilyMember.objects.count() == 0
    assert Placement.objects.count() == 0
    assert RecordEvent.objects.count() == 0
