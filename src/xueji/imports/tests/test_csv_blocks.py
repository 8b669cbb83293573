"""A CSV is handed to the checking workers in blocks of whole records: a block never ends
inside a quoted cell, every record is in exactly one block, and rows keep the sheet's numbers."""

import csv
import io

import pytest

from xueji.imports import columns as cols
from xueji.imports import reading, services
from xueji.imports.models import JobState
from xueji.imports.pipeline import staging
from xueji.imports.tests.sheets import csv_bytes, many_students, row_of
from xueji.students.models import Student
from xueji.testing.factories import student_data

ADDRESS = [f.key for f in cols.fields_of(cols.STUDENTS)].index("address")


def _records(blocks: list[bytes], encoding: str) -> list[list[str]]:
    return [
        record
        for block in blocks
        for record in csv.reader(io.StringIO(block.decode(encoding), newline=""))
    ]


@pytest.mark.parametrize("block_bytes", [7, 64, 1000, 1 << 20])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_blocks_hold_every_record_once_and_end_between_records(
    tmp_path, monkeypatch, block_bytes, encoding
):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", block_bytes)
    rows = [
        ["甲", '他说"你好"', "第一行\n第二行"],
        ["", "", ""],
        ["乙", "a,b", "\r\n\n"],
        ["丙", '"', "末"],
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["姓名", "备注", "地址"])
    writer.writerows(rows)
    path = tmp_path / "rows.csv"
    path.write_bytes(out.getvalue().encode(encoding))
    sheet = reading.open_sheet(path, reading.Sniffed("csv", encoding))
    assert sheet.header == ["姓名", "备注", "地址"]
    assert sheet.blocks is not None
    blocks = list(sheet.blocks)
    for block in blocks:
        assert block.count(b'"') % 2 == 0  # no block ends inside a quoted cell
    assert _records(blocks, sheet.encoding) == rows


@pytest.mark.django_db
def test_errors_name_the_sheets_rows_across_blocks(upload, school, monkeypatch):  # type: ignore[no-untyped-def]
    """Rows after a multi-line cell and a blank line keep the numbers Excel shows."""
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 600)
    children = list(many_students(40))
    rows = [row_of(data) for data in children]
    rows[3][ADDRESS] = "幸福路\n8号"
    rows.insert(10, [""] * len(rows[0]))  # a blank line: sheet row 12, skipped
    rows[30] = row_of(student_data(phone="not a phone"))
    job = upload(csv_bytes(rows), filename="students.csv")
    assert job.state == JobState.INVALID
    assert [error[0] for error in job.errors] == [32]  # header is row 1, list index 30 is row 32
    assert job.errors[0][3] == "invalid_phone"
    assert Student.objects.count() == 0


@pytest.mark.django_db
def test_a_file_of_many_blocks_is_written_whole(upload, school, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 500)
    monkeypatch.setattr(staging, "BATCH_ROWS", 7)
    children = list(many_students(60))
    rows = [row_of(data) for data in children]
    rows[5][ADDRESS] = "幸福路\n8号"
    job = upload(csv_bytes(rows, encoding="gb18030"), filename="students.csv")
    assert job.state == JobState.IMPORTED, job.errors[:3]
    assert job.rows_written == Student.objects.count() == 60
    assert Student.objects.filter(address="幸福路\n8号").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_forked_workers_check_csv_blocks_as_one_process_does(upload, school, monkeypatch):  # type: ignore[no-untyped-def]
    children = list(many_students(300))
    rows = [row_of(data) for data in children]
    rows[7] = row_of(student_data(phone="not a phone"))
    rows[250] = list(rows[20])  # the same child twice, in another block
    content = csv_bytes(rows)
    serial = upload(content, filename="serial.csv")
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 2000)
    monkeypatch.setattr(services, "check_workers", lambda total: 2)
    forked = upload(content, filename="forked.csv")
    assert serial.state == forked.state == JobState.INVALID
    assert forked.errors == serial.errors
    assert [error[0] for error in serial.errors] == [9, 252]
