"""The error report: the uploaded sheet again, bad cells filled and commented (zh + en)."""

import io

import openpyxl
import pytest

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.imports.models import JobState
from xueji.imports.reports import error_report_file
from xueji.imports.tests.sheets import csv_bytes, header, row_of, xlsx_bytes
from xueji.imports.workbooks import BAD_FILL
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


def _report(user, job) -> openpyxl.Workbook:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    error_report_file(user, job, out)
    out.seek(0)
    return openpyxl.load_workbook(out)


def _bad_file() -> bytes:
    rows = [row_of() for _ in range(4)]
    rows[1] = row_of(name="张3", phone="abc")
    rows[3] = row_of(birth_date="2019-02-30", sex='=HYPERLINK("http://x","1")')
    return xlsx_bytes(rows)


def test_the_report_reopened_shows_the_bad_cells_filled_and_commented(upload, registrar):
    job = upload(_bad_file())
    assert job.state == JobState.INVALID
    workbook = _report(registrar, job)
    sheet = workbook.worksheets[0]
    head = [cell.value for cell in sheet[1]]
    assert head == header()
    name, phone, birth, sex = (
        head.index(h) + 1 for h in ("姓名*", "联系电话", "出生日期*", "性别*")
    )
    flagged = {
        (cell.row, cell.column)
        for row in sheet.iter_rows()
        for cell in row
        if cell.fill.fgColor.rgb and cell.fill.fgColor.rgb.endswith(BAD_FILL[1:])
    }
    assert flagged == {(3, name), (3, phone), (5, birth), (5, sex)}
    comment = sheet.cell(3, name).comment.text
    assert "姓名不能包含数字或符号" in comment and "A name cannot contain digits" in comment
    assert "2019-02-30" in sheet.cell(5, birth).value
    # The sheet's other cells are copied as they were; text that looks like a formula is text,
    # exactly as uploaded (the quote prefix is the cell's format, not part of its value).
    assert sheet.cell(2, name).value == "张春铭"
    assert sheet.cell(5, sex).value == '=HYPERLINK("http://x","1")'
    assert sheet.cell(5, sex).data_type == "s" and sheet.cell(5, sex).quotePrefix
    listing = workbook.worksheets[1]
    assert listing.max_row == 1 + job.error_count
    assert AuditEntry.objects.filter(action="import.error_report").exists()


def test_the_report_of_a_gbk_csv(upload, registrar):
    job = upload(csv_bytes([row_of(name="张3")], encoding="gbk"), filename="students.csv")
    sheet = _report(registrar, job).worksheets[0]
    assert sheet.cell(2, header().index("姓名*") + 1).comment is not None


def test_the_county_gets_the_report_with_id_numbers_masked(upload, school):
    rows = [row_of(name="张3")]
    job = upload(xlsx_bytes(rows))
    id_column = header().index("身份证件号") + 1
    county = member(Role.BUREAU_VIEWER, division=school.county)
    sheet = _report(county, job).worksheets[0]
    shown = sheet.cell(2, id_column).value
    assert "*" in shown and shown != rows[0][id_column - 1]


def test_the_report_keeps_the_templates_drop_downs_to_fix_a_code(upload, registrar):
    # A blank or mistyped 民族 is fixed by picking "01 汉族" from the list, as in the template;
    # without it the registrar types the code from memory, or goes back to the template.
    job = upload(xlsx_bytes([row_of(), row_of(ethnicity=""), row_of(only_child="也许")]))
    assert job.state == JobState.INVALID
    workbook = _report(registrar, job)
    sheet = workbook.worksheets[0]
    assert workbook.sheetnames[0] == "数据"  # the sheet an upload reads, as before
    head = [cell.value for cell in sheet[1]]
    lists = workbook["代码表"]
    assert lists.sheet_state == "hidden"
    by_range = {
        str(validation.sqref): validation.formula1
        for validation in sheet.data_validations.dataValidation
    }
    ethnicity = openpyxl.utils.get_column_letter(head.index("民族*") + 1)
    source = by_range[f"{ethnicity}2:{ethnicity}4"]
    letter = source.split("!$")[1].split("$")[0]
    entries = [row[0] for row in lists[f"{letter}2:{letter}60"] if row[0].value]
    assert entries[0].value == "01 汉族" and len(entries) == 58
    only_child = openpyxl.utils.get_column_letter(head.index("是否独生子女") + 1)
    assert by_range[f"{only_child}2:{only_child}4"] == '"是,否"'
