"""Safe exports: formula injection neutralised, identifiers masked unless revealed."""

import csv
import datetime
import io
import re
import urllib.parse

import pytest

from xueji.core.exports import (
    Column,
    content_disposition,
    mask_identifiers,
    neutralise,
    to_csv,
    to_xlsx,
)
from xueji.testing.exports import COLUMNS, RESIDENT, ROWS, xlsx_parts


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\0x", "＝1+1", "－2", "＠x"]
)
def test_text_that_a_spreadsheet_would_evaluate_is_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["张春铭", "a=b", "1-2", "", " =x"])
def test_other_text_is_left_alone(text):
    assert neutralise(text) == text


def test_identifiers_are_masked_wherever_they_appear():
    assert mask_identifiers(f"ID {RESIDENT}, number G{RESIDENT}.") == (
        "ID 110105********002X, number G110105********002X."
    )
    assert mask_identifiers("12345678901234567890123") == "12345678901234567890123"


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_is_masked_and_safe_by_default():
    lines = read_csv(to_csv(COLUMNS, ROWS))
    assert lines[0] == ["Name", "ID number", "Student number", "Note", "Count"]
    assert lines[1] == [
        '\'=HYPERLINK("http://evil.example","点这里")',
        "110105********002X",
        "G110105********002X",
        "mentions 110105********002X in passing",
        "-3",
    ]
    assert lines[2] == ["张春铭", "", "", "'@SUM(A1)", "7"]
    assert RESIDENT not in to_csv(COLUMNS, ROWS).decode("utf-8-sig")


def test_revealing_keeps_the_numbers_but_still_neutralises():
    lines = read_csv(to_csv(COLUMNS, ROWS, reveal=True))
    assert lines[1][1] == RESIDENT
    assert lines[1][2] == "G" + RESIDENT
    assert lines[1][0].startswith("'=")


def test_objects_and_dates_export_too():
    class Row:
        name = "+86 138"
        day = datetime.date(2026, 9, 1)

    lines = read_csv(to_csv([Column("name", "Phone"), Column("day", "Day")], [Row()]))
    assert lines[1] == ["'+86 138", "2026-09-01"]


def test_xlsx_has_no_formula_and_masked_numbers():
    sheet, strings = xlsx_parts(to_xlsx(COLUMNS, ROWS, sheet="Students: list"))
    assert "<f>" not in sheet and "<f " not in sheet
    assert "&apos;=HYPERLINK" in strings or "'=HYPERLINK" in strings
    assert "110105********002X" in strings
    assert RESIDENT not in strings
    assert re.search(r"<v>-3</v>", sheet)  # numbers stay numbers


def test_csv_and_xlsx_are_written_in_constant_memory(tmp_path):
    """200,000 rows from a generator: memory does not grow with the rows."""
    import tracemalloc

    from xueji.core.exports import csv_chunks, table_cells, write_xlsx

    def rows(count: int):  # type: ignore[no-untyped-def]
        for n in range(count):
            yield {"name": f"学生{n}", "id_number": RESIDENT, "student_number": "G" + RESIDENT,
                   "note": "=1+1", "count": n}  # fmt: skip

    def peak(count: int, write) -> int:  # type: ignore[no-untyped-def]
        tracemalloc.start()
        write(table_cells(COLUMNS, rows(count)))
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    def to_nowhere(lines):  # type: ignore[no-untyped-def]
        for _chunk in csv_chunks(lines):
            pass

    assert peak(200_000, to_nowhere) < 2 * peak(20_000, to_nowhere) < 4 * 2**20
    path = str(tmp_path / "big.xlsx")
    small = peak(5_000, lambda lines: write_xlsx(path, lines))
    large = peak(50_000, lambda lines: write_xlsx(path, lines))
    assert large < 2 * small


def test_a_file_name_keeps_what_a_registrar_typed_and_drops_what_no_file_system_takes():
    disposition = content_disposition("福田区·一年级 1/2班: 年级×性别", "xlsx", "grade-sex")
    plain, utf8 = disposition.removeprefix("attachment; ").split("; ")
    assert plain == 'filename="grade-sex.xlsx"'
    name = urllib.parse.unquote(utf8.removeprefix("filename*=UTF-8''"))
    assert name == "福田区·一年级 1_2班_ 年级×性别.xlsx"
    assert 'filename="export.csv"' in content_disposition("名单", "csv")
