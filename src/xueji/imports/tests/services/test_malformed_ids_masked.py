"""A mistyped ID number (17 or 19 digits, too short) is never kept or shown in full: not in the
import's stored errors, not in the error report of either the school or the county."""

import io
import json

import openpyxl
import pytest

from xueji.access.models import Role
from xueji.core import codes
from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.reports import error_report_file
from xueji.imports.tests.sheets import row_of, xlsx_bytes
from xueji.testing.factories import member, resident_id

pytestmark = pytest.mark.django_db

RESIDENT = codes.IdDocType.RESIDENT_ID


def malformed_rows() -> tuple[list[list[object]], dict[str, str]]:
    """Rows whose student, first and second family member's ID numbers are mistyped: 17
    digits, 19 digits, 10 digits."""
    numbers = {
        "id_number": resident_id()[:17],
        "family.0.id_number": resident_id() + "7",
        "family.1.id_number": resident_id()[:10],
    }
    rows = [
        row_of(id_number=numbers["id_number"]),
        row_of(
            **{
                "family.0.id_doc_type": RESIDENT,
                "family.0.id_number": numbers["family.0.id_number"],
                "family.1.id_doc_type": RESIDENT,
                "family.1.id_number": numbers["family.1.id_number"],
            }
        ),
    ]
    return rows, numbers


def _column(key: str) -> int:
    return next(n for n, f in enumerate(cols.fields_of(cols.STUDENTS)) if f.key == key)


def _cells(user, job) -> list[str]:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    error_report_file(user, job, out)
    out.seek(0)
    workbook = openpyxl.load_workbook(out)
    return [
        str(cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def test_mistyped_id_numbers_are_stored_and_reported_masked(upload, school, registrar):
    rows, numbers = malformed_rows()
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.INVALID
    stored = json.dumps(job.errors, ensure_ascii=False)
    for number in numbers.values():
        assert number not in stored
    shown = {column: value for _row, column, value, *_rest in job.errors}
    first = numbers["id_number"]
    assert shown[_column("id_number")] == first[:6] + "*" * 7 + first[-4:]
    second = numbers["family.0.id_number"]
    assert shown[_column("family.0.id_number")] == second[:6] + "*" * 9 + second[-4:]
    assert shown[_column("family.1.id_number")] == "*" * 8 + numbers["family.1.id_number"][-2:]

    # The county's copy of the sheet masks the ID number columns whatever they hold.
    county = member(Role.BUREAU_VIEWER, division=school.county)
    county_cells = _cells(county, job)
    for number in numbers.values():
        assert not any(number in cell for cell in county_cells)
    # The school's copy is its own upload again, for correcting it; the errors sheet is masked.
    out = io.BytesIO()
    error_report_file(registrar, job, out)
    out.seek(0)
    listing = openpyxl.load_workbook(out).worksheets[1]
    listed = [str(cell.value) for row in listing.iter_rows() for cell in row]
    for number in numbers.values():
        assert not any(number in cell for cell in listed)


def test_an_id_number_excel_kept_as_a_number_is_masked_in_the_countys_report(upload, school):
    number = resident_id()[:16]
    job = upload(xlsx_bytes([row_of(id_number=float(number))]))
    assert job.state == JobState.INVALID
    assert number not in json.dumps(job.errors)
    county = member(Role.BUREAU_VIEWER, division=school.county)
    assert not any(number in cell for cell in _cells(county, job))
