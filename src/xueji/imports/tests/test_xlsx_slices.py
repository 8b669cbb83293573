"""An .xlsx read a slice of rows at a time gives exactly what python-calamine gives when it reads
the whole sheet: the same cells with the same types, in rows with the same numbers, whatever
the slices, the string storage (shared or inline), the date system or the namespace prefix."""

from __future__ import annotations

import datetime
import io
import re
import time
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from xueji.imports import xlsx
from xueji.imports.xlsx import SlicedWorkbook

TEXT = st.lists(
    st.sampled_from([*"甲乙丙abc 0123<>&\"'", "</row>", "]]>", "<v>1</v>", 't="s">']),
    min_size=1,
    max_size=6,
).map("".join)
CELL = st.one_of(
    st.none(),
    TEXT,
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.dates(datetime.date(1905, 1, 1), datetime.date(2099, 12, 31)),
    st.tuples(st.just("formula"), st.integers(0, 99)),
)
GRID = st.lists(st.lists(CELL, max_size=6), max_size=25)


def _workbook(
    grid: list[list[Any]],
    *,
    shared_strings: bool = True,
    date_1904: bool = False,
    skip_first_column: bool = False,
    row_gap: int = 0,
) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "constant_memory": not shared_strings,
            "date_1904": date_1904,
            "strings_to_numbers": False,
        },
    )
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("学生")
    book.add_worksheet("说明").write_string(0, 0, "not read")
    left = 1 if skip_first_column else 0
    for r, row in enumerate(grid):
        number = r + (row_gap if r > len(grid) // 2 else 0)
        for c, value in enumerate(row, start=left):
            if value is None:
                continue
            if isinstance(value, tuple):
                sheet.write_formula(number, c, f"={value[1]}+1", None, value[1] + 1)
            elif isinstance(value, datetime.date):
                sheet.write_datetime(number, c, value, dates)
            elif isinstance(value, bool):
                sheet.write_boolean(number, c, value)
            elif isinstance(value, str):
                sheet.write_string(number, c, value)
            else:
                sheet.write_number(number, c, value)
    book.close()
    return out.getvalue()


def _trimmed(cells: list[Any]) -> list[tuple[str, Any]]:
    """The cells up to the last non-blank one, each with its type (True == 1 == 1.0)."""
    cells = list(cells)
    while cells and cells[-1] in ("", None):
        cells.pop()
    return [(type(cell).__name__, cell) for cell in cells]


def _whole(path: Path) -> dict[int, list[Any]]:
    """What calamine reads from the whole sheet: the non-blank rows by their numbers."""
    with CalamineWorkbook.from_path(str(path)) as book:
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    return {n: _trimmed(cells) for n, cells in enumerate(rows, start=1) if _trimmed(cells)}


def _sliced(path: Path, slice_bytes: int, strings_read: int = 1 << 20) -> dict[int, list[Any]]:
    with (
        mock.patch.object(xlsx, "XLSX_SLICE_BYTES", slice_bytes),
        mock.patch.object(xlsx, "_STRINGS_READ_BYTES", strings_read),
    ):
        workbook = SlicedWorkbook(path)
        numbers = [n for n, _cells in workbook.rows()]
        rows = {n: _trimmed(cells) for n, cells in workbook.rows() if _trimmed(cells)}
    assert numbers == sorted(set(numbers)), "every row once, in order"
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    grid=GRID,
    shared_strings=st.booleans(),
    date_1904=st.booleans(),
    skip_first_column=st.booleans(),
    row_gap=st.sampled_from([0, 1, 5000]),
    slice_bytes=st.sampled_from([1, 200, 1000, 1 << 22]),
    strings_read=st.sampled_from([1, 5, 13, 64, 1 << 20]),
)
def test_slices_read_what_calamine_reads_from_the_whole_sheet(
    grid: list[list[Any]],
    shared_strings: bool,
    date_1904: bool,
    skip_first_column: bool,
    row_gap: int,
    slice_bytes: int,
    strings_read: int,
) -> None:
    content = _workbook(
        grid,
        shared_strings=shared_strings,
        date_1904=date_1904,
        skip_first_column=skip_first_column,
        row_gap=row_gap,
    )
    with _written(content) as path:
        assert _sliced(path, slice_bytes, strings_read) == _whole(path)


class _written:
    def __init__(self, content: bytes) -> None:
        import tempfile

        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / "sheet.xlsx"
        self.path.write_bytes(content)

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        self.folder.cleanup()


def _rezipped(content: bytes, change: dict[str, Any]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename in change:
                data = change[info.filename](data)
            target.writestr(info.filename, data)
    return out.getvalue()


MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _prefixed(xml: bytes) -> bytes:
    """The part with every element of the main namespace written as x:name (as some producers
    do), and the namespace declared for that prefix."""
    xml = re.sub(rb"<(/?)([A-Za-z]+)([\s>/])", rb"<\1x:\2\3", xml)
    return xml.replace(b'xmlns="' + MAIN, b'xmlns:x="' + MAIN, 1)


def _grid(rows: int) -> list[list[Any]]:
    return [
        [
            f"学生{n}",
            n,
            datetime.date(2019, 9, 1) + datetime.timedelta(days=n),
            "男" if n % 2 else "女",
        ]
        for n in range(rows)
    ]


@pytest.mark.parametrize("shared_strings", [True, False])
def test_a_prefixed_namespace_is_sliced_like_the_default_one(tmp_path, shared_strings):  # type: ignore[no-untyped-def]
    content = _workbook(_grid(300), shared_strings=shared_strings)
    prefixed = _rezipped(
        content,
        {"xl/worksheets/sheet1.xml": _prefixed, "xl/sharedStrings.xml": _prefixed},
    )
    path = tmp_path / "prefixed.xlsx"
    path.write_bytes(prefixed)
    assert b"<x:row" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    expected = _whole(path)
    assert len(expected) == 300
    assert _sliced(path, 500) == expected


def test_each_slice_carries_only_the_shared_strings_its_rows_use(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "shared.xlsx"
    path.write_bytes(_workbook(_grid(2000)))
    with mock.patch.object(xlsx, "XLSX_SLICE_BYTES", 4096):
        workbook = SlicedWorkbook(path)
        slices = list(workbook.slices())
        tables = [workbook.strings.subset_for(piece.xml)[1] for piece in slices]
    everything = workbook.strings.count
    assert everything >= 2000 and len(slices) > 10
    assert all(table.count(b"<si>") < everything / 5 for table in tables)


def test_the_last_row_is_counted_when_the_sheet_declares_no_used_range(tmp_path):  # type: ignore[no-untyped-def]
    content = _workbook(_grid(120), row_gap=7)
    path = tmp_path / "declared.xlsx"
    path.write_bytes(content)
    undeclared = tmp_path / "undeclared.xlsx"
    undeclared.write_bytes(
        _rezipped(
            content,
            {"xl/worksheets/sheet1.xml": lambda xml: re.sub(rb"<dimension [^>]*/>", b"", xml)},
        )
    )
    with mock.patch.object(xlsx, "XLSX_SLICE_BYTES", 700):
        assert SlicedWorkbook(path).last_row_number() == 127
        assert SlicedWorkbook(undeclared).last_row_number() == 127


def test_a_shared_string_that_does_not_exist_is_an_error(tmp_path):  # type: ignore[no-untyped-def]
    content = _rezipped(
        _workbook(_grid(3)),
        {
            "xl/worksheets/sheet1.xml": lambda xml: xml.replace(
                b't="s"><v>1</v>', b't="s"><v>99999</v>', 1
            )
        },
    )
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="shared string 99999"):
        list(SlicedWorkbook(path).rows())


def test_an_unreadable_slice_crosses_from_a_worker_intact():
    import pickle

    error = xlsx.UnreadableSheet("sheet_too_large", "rows 2 to 9 span 99 cells", 99)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, str(copy), copy.cells) == ("sheet_too_large", str(error), 99)


@pytest.mark.django_db
def test_rows_far_apart_are_refused_before_calamine_fills_the_gap(upload):  # type: ignore[no-untyped-def]
    from xueji.imports.models import JobState
    from xueji.imports.tests.sheets import row_of, xlsx_bytes
    from xueji.students.models import Student

    def far_apart(xml: bytes) -> bytes:
        # The declared used range stays small: only the rows themselves say how far apart.
        xml = xml.replace(b'<row r="3"', b'<row r="1000000"')
        return re.sub(rb'r="([A-Z]+)3"', rb'r="\g<1>1000000"', xml)

    content = _rezipped(xlsx_bytes([row_of(), row_of()]), {"xl/worksheets/sheet1.xml": far_apart})
    started = time.perf_counter()
    job = upload(content)
    assert time.perf_counter() - started < 5
    assert job.state == JobState.INVALID
    assert "47000000" in job.message and Student.objects.count() == 0  # a million rows × 47 columns


def test_rows_without_numbers_are_read_whole_by_calamine(tmp_path):  # type: ignore[no-untyped-def]
    from xueji.imports import reading
    from xueji.imports.safety import XLSX, Sniffed

    content = _rezipped(
        _workbook(_grid(50), row_gap=3),
        {"xl/worksheets/sheet1.xml": lambda xml: re.sub(rb'<row r="\d+"', b"<row", xml)},
    )
    path = tmp_path / "unnumbered.xlsx"
    path.write_bytes(content)
    with pytest.raises(xlsx.NotSliceable):
        SlicedWorkbook(path)
    sheet = reading.open_sheet(path, Sniffed(XLSX))
    assert sheet.workbook is None and sheet.blocks is None
    read = {n: _trimmed(cells) for n, cells in sheet.rows}
    assert read == {n: cells for n, cells in _whole(path).items() if n > 1}


def test_a_workbook_written_by_openpyxl_is_sliced_like_calamine_reads_it(tmp_path):  # type: ignore[no-untyped-def]
    """Another producer: openpyxl writes shared strings after the sheets, dates with its own
    styles, and formulas without a saved value."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "学生"
    for n in range(1, 400):
        sheet.append(
            [f"学生{n % 37}", n * 1.5, datetime.date(2019, 9, 1) + datetime.timedelta(days=n)]
        )
        sheet.cell(row=n, column=5, value=n % 2 == 0)
        sheet.cell(row=n, column=6, value=f"=B{n}*2")
    sheet.cell(row=1000, column=2, value="最后")
    book.create_sheet("说明")["A1"] = "not read"
    path = tmp_path / "openpyxl.xlsx"
    book.save(path)
    expected = _whole(path)
    assert len(expected) == 400
    assert _sliced(path, 300) == expected


@pytest.mark.parametrize(
    ("first", "last", "column", "refused"),
    [
        (1, 10, "XFD", False),  # 10 rows × 16,384 columns
        (1, 200, "XFD", True),  # 3,276,800 cells
        (1, 3000, "AZ", False),  # 156,000
        (1, 50_000, "BA", True),  # 2,650,000: one cell in column BA widens every row
        (1, 37_000, "BA", False),  # 1,961,000
    ],
)
def test_a_slice_is_refused_when_its_used_range_is_too_large(
    tmp_path, first, last, column, refused
):  # type: ignore[no-untyped-def]
    path = tmp_path / "wide.xlsx"
    path.write_bytes(_workbook(_grid(3)))
    workbook = SlicedWorkbook(path)
    xml = (
        f'<worksheet><sheetData><row r="{first}"><c r="A{first}"><v>1</v></c></row>'
        f'<row r="{last}"><c r="{column}{last}"><v>2</v></c></row></sheetData></worksheet>'
    ).encode()
    if refused:
        with pytest.raises(xlsx.UnreadableSheet) as error:
            workbook._check_span(xml)
        assert error.value.code == "sheet_too_large"
        assert error.value.cells > xlsx.MAX_SHEET_CELLS
    else:
        workbook._check_span(xml)


def _with_strings(content: bytes, extra: int, text: str = "未用的字符串{n:07d}") -> bytes:
    """The workbook with `extra` more strings at the end of its shared strings table, used by no
    cell."""

    def grown(xml: bytes) -> bytes:
        more = "".join(f"<si><t>{text.format(n=n)}</t></si>" for n in range(extra))
        return xml.replace(b"</sst>", more.encode() + b"</sst>")

    return _rezipped(content, {"xl/sharedStrings.xml": grown})


def test_the_shared_strings_table_is_kept_out_of_memory(tmp_path):  # type: ignore[no-untyped-def]
    """A 50 MB upload may hold 600 MB of shared strings for a sheet of a few rows: the table
    goes to a temporary file, and a slice reads back only its own strings."""
    import tracemalloc

    path = tmp_path / "strings.xlsx"
    path.write_bytes(_with_strings(_workbook(_grid(40)), 500_000))
    table_bytes = zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml").file_size
    assert table_bytes > 16 << 20
    tracemalloc.start()
    try:
        workbook = SlicedWorkbook(path)
        rows = {n: _trimmed(cells) for n, cells in workbook.rows() if _trimmed(cells)}
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert workbook.strings.count >= 500_000
    assert rows == _whole(path)
    # A few reads of 1 MB at a time, not the table.
    assert peak < 8 << 20, f"{peak} bytes at the peak for a table of {table_bytes}"


def test_a_shared_string_longer_than_a_cell_holds_is_refused_naming_its_cell(upload):  # type: ignore[no-untyped-def]
    from xueji.imports.models import JobState
    from xueji.imports.tests.sheets import row_of, xlsx_bytes

    # 1.2 MB of characters that do not repeat (a zip of one character repeated is a bomb).
    text = "".join(chr(0x4E00 + n * 7919 % 20_000) for n in range(400_000))
    unused = _with_strings(xlsx_bytes([row_of(name="王小明")]), 1, text=text)
    # A string no cell uses stays in the temporary table, never read: harmless.
    assert upload(unused, filename="unused.xlsx").state == JobState.IMPORTED

    def longer(xml: bytes) -> bytes:
        return xml.replace("<t>王小明</t>".encode(), f"<t>{text}</t>".encode())

    used = _rezipped(xlsx_bytes([row_of(name="王小明")]), {"xl/sharedStrings.xml": longer})
    job = upload(used, filename="used.xlsx")
    assert job.state == JobState.INVALID
    # 姓名 is the template's column C, in row 2.
    assert "row 2, column C" in job.message_en and "第 2 行" in job.message


def test_a_slice_whose_strings_are_too_large_is_refused(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "long.xlsx"
    path.write_bytes(_workbook([[f"{n:05d}" + "长" * 3000] for n in range(30)]))
    with (
        mock.patch.object(xlsx, "MAX_SLICE_STRINGS_BYTES", 200_000),
        pytest.raises(xlsx.UnreadableSheet) as error,
    ):
        list(SlicedWorkbook(path).rows())
    assert error.value.code == "strings_too_large"
    with mock.patch.object(xlsx, "MAX_SLICE_STRINGS_BYTES", 400_000):
        assert len(list(SlicedWorkbook(path).rows())) == 30


def test_shared_strings_with_cdata_are_read_whole_by_calamine(tmp_path):  # type: ignore[no-untyped-def]
    """Inside CDATA a string's text may look like the start of another string: the table's
    strings cannot be counted by their tags, so calamine reads the sheet itself."""
    from xueji.imports import reading
    from xueji.imports.safety import XLSX, Sniffed

    content = _rezipped(
        _workbook(_grid(30)),
        {
            "xl/sharedStrings.xml": lambda xml: xml.replace(
                b"<t>\xe5\xad\xa6\xe7\x94\x9f0</t>", b"<t><![CDATA[<si><t>x</t></si>]]></t>", 1
            )
        },
    )
    path = tmp_path / "cdata.xlsx"
    path.write_bytes(content)
    assert b"CDATA" in zipfile.ZipFile(path).read("xl/sharedStrings.xml")
    with pytest.raises(xlsx.NotSliceable):
        SlicedWorkbook(path)
    sheet = reading.open_sheet(path, Sniffed(XLSX))
    assert sheet.workbook is None
    read = {n: _trimmed(cells) for n, cells in sheet.rows}
    assert read == {n: cells for n, cells in _whole(path).items() if n > 1}


def test_a_workbook_read_whole_is_refused_above_its_size(tmp_path):  # type: ignore[no-untyped-def]
    from xueji.imports import reading
    from xueji.imports.safety import XLSX, Sniffed, UnsafeFile

    content = _rezipped(
        _workbook(_grid(300)),
        {"xl/worksheets/sheet1.xml": lambda xml: re.sub(rb'<row r="\d+"', b"<row", xml)},
    )
    path = tmp_path / "unnumbered.xlsx"
    path.write_bytes(content)
    with (
        mock.patch.object(reading, "MAX_WHOLE_XLSX_XML_BYTES", 10_000),
        pytest.raises(UnsafeFile) as refused,
    ):
        reading.open_sheet(path, Sniffed(XLSX))
    assert refused.value.code == "read_whole_too_large"
    assert len(list(reading.open_sheet(path, Sniffed(XLSX)).rows)) == 299


def test_an_oversized_styles_part_is_refused(tmp_path):  # type: ignore[no-untyped-def]
    from xueji.imports import reading
    from xueji.imports.safety import XLSX, Sniffed, UnsafeFile

    path = tmp_path / "styles.xlsx"
    path.write_bytes(_workbook(_grid(3)))
    styles = zipfile.ZipFile(path).getinfo("xl/styles.xml").file_size
    with (
        mock.patch.object(xlsx, "MAX_SHARED_PART_BYTES", styles - 1),
        pytest.raises(UnsafeFile) as refused,
    ):
        reading.open_sheet(path, Sniffed(XLSX))
    assert refused.value.code == "part_too_large"
    assert "样式" in str(refused.value.message)  # Chinese, the default language


def test_shared_string_cells_written_otherwise_are_renumbered_too(tmp_path):  # type: ignore[no-untyped-def]
    """Excel writes a shared-string cell as <c r="A1" t="s"><v>7</v></c>, which a fast pattern
    finds; other producers put the type first, spaces around the index or zeros before it."""

    def otherwise(xml: bytes) -> bytes:
        xml = re.sub(rb'<c r="(A\d*[05])" t="s">', rb'<c t="s" r="\1">', xml)
        xml = re.sub(rb'(<c r="B\d*3" t="s"><v>)(\d+)<', rb"\1 \2 <", xml)
        return re.sub(rb'(<c r="D\d*7" t="s"><v>)(\d+)<', rb"\g<1>00\2<", xml)

    content = _rezipped(_workbook(_grid(400)), {"xl/worksheets/sheet1.xml": otherwise})
    path = tmp_path / "otherwise.xlsx"
    path.write_bytes(content)
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b'<c t="s" r="A10">' in sheet and b"<v>00" in sheet
    expected = _whole(path)
    assert len(expected) == 400
    assert _sliced(path, 2000) == expected
