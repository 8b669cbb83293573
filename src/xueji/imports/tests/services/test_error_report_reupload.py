"""The error report uploaded again once corrected: every cell is exactly the text uploaded, and
the ID number and other text columns stay text."""

import io

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.reports import error_report_file
from xueji.imports.tests.sheets import header, row_of, xlsx_bytes
from xueji.students.models import FamilyMember, Student

pytestmark = pytest.mark.django_db

# Text a spreadsheet would take for a formula, in cells that are not in error.
FORMULA_LIKE = {
    "phone": "+8613800138000",
    "address": "-1层101室",
    "family.0.employer": "=未知=",
    "family.1.employer": "@home",
}


def _column(key: str) -> int:
    """The 1-based column of a field in the students template."""
    return next(n for n, f in enumerate(cols.fields_of(cols.STUDENTS), 1) if f.key == key)


def _report_bytes(user, job) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    error_report_file(user, job, out)
    return out.getvalue()


def test_the_report_holds_the_uploaded_text_and_uploaded_again_stores_it_unchanged(
    upload, registrar, school
):
    rows = [row_of(), row_of(name="张3", **FORMULA_LIKE)]
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.INVALID
    assert [(row, column) for row, column, *_rest in job.errors] == [(3, _column("name") - 1)]
    content = _report_bytes(registrar, job)

    # Read as the import reads it (calamine) and as Excel would show it (openpyxl): the text as
    # uploaded, no apostrophe in front, shown as text (quote prefix) and never a formula.
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    cells = calamine.to_python()
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    for key, text in FORMULA_LIKE.items():
        assert cells[2][_column(key) - 1] == text
        cell = sheet.cell(3, _column(key))
        assert cell.value == text and cell.data_type == "s" and cell.quotePrefix
    # ID numbers and the other text columns are formatted as text; the header stays in view.
    id_column = _column("id_number")
    assert sheet.cell(2, id_column).number_format == "@"
    assert sheet.cell(3, id_column).number_format == "@"
    # The column's own format too (cells typed below the copied rows); openpyxl keys a run of
    # columns of one format by its first letter.
    assert any(
        d.min <= id_column <= d.max and d.number_format == "@"
        for d in sheet.column_dimensions.values()
    )
    assert sheet.cell(3, _column("name")).number_format == "@"  # flagged, and still text
    assert sheet.freeze_panes == "A2"

    # The registrar corrects the flagged cell in the same workbook and uploads it again.
    sheet.cell(3, _column("name")).value = "张三"
    corrected = io.BytesIO()
    workbook.save(corrected)
    again = upload(corrected.getvalue(), filename="students-errors.xlsx")
    assert again.state == JobState.IMPORTED, (again.message, again.errors)
    student = Student.objects.get(school=school, name="张三")
    assert student.phone == FORMULA_LIKE["phone"]
    assert student.address == FORMULA_LIKE["address"]
    employers = list(
        FamilyMember.objects.filter(student=student)
        .order_by("ordinal")
        .values_list("employer", flat=True)
    )
    assert employers == [FORMULA_LIKE["family.0.employer"], FORMULA_LIKE["family.1.employer"]]


def test_the_errors_sheet_shows_values_as_they_are(upload, registrar):
    job = upload(xlsx_bytes([row_of(phone="-12")]))
    assert job.state == JobState.INVALID
    listing = openpyxl.load_workbook(io.BytesIO(_report_bytes(registrar, job))).worksheets[1]
    assert listing.freeze_panes == "A2"
    value = listing.cell(2, 3)
    assert listing.cell(2, 2).value == "联系电话" and value.value == "-12" and value.quotePrefix
    assert header()[_column("phone") - 1] == "联系电话"
