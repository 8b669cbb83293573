"""The .xlsx templates: Chinese headers, the national code lists as drop-downs, text-formatted ID
columns, an instructions sheet; a filled-in template imports."""

import io

import openpyxl
import pytest

from xueji.core import codes
from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.workbooks import HELP_SHEET, LISTS_SHEET, template_xlsx

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("purpose", cols.PURPOSES)
def test_every_template_has_chinese_headers_and_instructions(purpose):
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(purpose)))
    data = book.worksheets[0]
    headers = [cell.value for cell in data[1] if cell.value]
    assert headers == [f.header + ("*" if f.required else "") for f in cols.fields_of(purpose)]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in headers)
    assert HELP_SHEET in book.sheetnames
    assert len(list(book[HELP_SHEET].iter_rows())) > len(headers)


def test_code_columns_have_drop_downs_of_the_national_lists():
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(cols.STUDENTS)))
    data, lists = book.worksheets[0], book[LISTS_SHEET]
    assert lists.sheet_state == "hidden"
    headers = [cell.value for cell in data[1]]
    validations = {
        str(v.sqref).split(":")[0]: v.formula1 for v in data.data_validations.dataValidation
    }
    ethnicity_column = openpyxl.utils.get_column_letter(headers.index("民族*") + 1)
    formula = validations[f"{ethnicity_column}2"]
    letter = formula.split("!")[1].split("$")[1]
    entries = [c.value for c in lists[letter][1:] if c.value]
    assert entries == [f"{code} {name}" for code, name in codes.ETHNICITY_CHOICES]
    sex_column = openpyxl.utils.get_column_letter(headers.index("性别*") + 1)
    letter = validations[f"{sex_column}2"].split("!")[1].split("$")[1]
    assert [c.value for c in lists[letter][1:] if c.value] == ["1 男", "2 女"]
    id_column = headers.index("身份证件号") + 1
    formats = [
        d.number_format for d in data.column_dimensions.values() if d.min <= id_column <= d.max
    ]
    assert formats == ["@"]  # text: Excel keeps all 18 characters


def test_a_template_filled_in_with_openpyxl_imports(upload, school):
    from xueji.imports.tests.sheets import row_of

    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(cols.STUDENTS)))
    data = book.worksheets[0]
    for c, value in enumerate(row_of(), start=1):
        data.cell(2, c, value)
    out = io.BytesIO()
    book.save(out)
    job = upload(out.getvalue())
    assert job.state == JobState.IMPORTED, job.errors
