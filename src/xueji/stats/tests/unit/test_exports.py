"""CSV and XLSX exports: the same cells as the table, formulas neutralised."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from xueji.stats.exports import neutralise, to_csv, to_xlsx
from xueji.stats.tables import Cube, Shown, table_of


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+cmd", "@SUM(A1)", "\tx", "\rx", "\0x"])
def test_text_that_a_spreadsheet_could_evaluate_gets_an_apostrophe(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["福田区", "<5", "×", "a=b", ""])
def test_other_text_is_left_alone(text):
    assert neutralise(text) == text


def table(suppress: bool = False):
    shown = Shown(
        Cube.from_rows(["school"], [('=HYPERLINK("http://x")', 12), ("ok", 2)]), 5, suppress
    )
    return table_of(
        shown,
        key="units",
        title="Schools",
        definition="-counted on the date",
        corner="School",
        rows=[
            ('=HYPERLINK("http://x")', {"school": '=HYPERLINK("http://x")'}, False, 0),
            ("ok", {"school": "ok"}, False, 0),
            ("Total", {}, True, 0),
        ],
        columns=[("Children", {})],
    )


def test_csv_has_title_header_rows_definition_and_neutralised_text():
    text = to_csv(table(), "note").decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == ["Schools"]
    assert lines[1] == ["School", "Children"]
    assert lines[2] == ['\'=HYPERLINK("http://x")', "12"]
    assert lines[4] == ["Total", "14"]
    assert ["'-counted on the date"] in lines and ["note"] in lines


def test_csv_shows_suppressed_cells_as_their_marks_and_says_why():
    text = to_csv(table(suppress=True)).decode("utf-8")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[3] == ["ok", "<5"]
    assert lines[2][1] == "×"
    assert any("<5" in line[0] for line in lines[6:] if line)


def test_xlsx_writes_counts_as_numbers_and_no_formula():
    data = to_xlsx(table(suppress=True))
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere
    assert re.search(r'<c r="B5"[^>]*><v>14</v>', sheet)  # the total, a number
    assert "&apos;=HYPERLINK" in strings or "'=HYPERLINK" in strings
    assert "&lt;5" in strings
