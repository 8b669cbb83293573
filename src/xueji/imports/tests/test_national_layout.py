"""Files schools already have (issue 19): the national collection form's layout, its items
named as the national system names them, in any order, with codes, labels or "code-label"
values; a header the import does not know is named, never silently ignored."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import pytest

from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.tests.sheets import many_students, row_of, xlsx_bytes
from xueji.students.models import Student


def _national_row(child: Any) -> dict[str, Any]:
    """The child's row keyed by the national form's names, codes written three ways in turn."""
    values = dict(zip(cols.fields_of(cols.STUDENTS), row_of(child), strict=True))
    row: dict[str, Any] = {}
    styles = ["code", "label", "code-label"]
    for n, (field, value) in enumerate(values.items()):
        name = field.aliases[0] if field.aliases else field.header
        if field.kind == cols.CODE and value:
            code, label = str(value).split(" ", 1)
            value = {"code": code, "label": label, "code-label": f"{code}-{label}"}[styles[n % 3]]
        if field.key == "birth_date":
            value = child.birth_date.strftime("%Y%m%d")  # as the national form writes it
        row[name] = value
    row["性别"] = "1-男"
    row["入学年月"] = "202609"  # items of the form the registry does not keep
    row["政治面貌"] = "群众"
    return row


def _csv(rows: list[dict[str, Any]], order: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(order)
    for row in rows:
        writer.writerow([row[name] for name in order])
    return out.getvalue().encode("utf-8-sig")


def test_a_file_in_the_national_layout_imports(upload, school):  # type: ignore[no-untyped-def]
    children = list(many_students(3))
    rows = [_national_row(child) for child in children]
    order = list(rows[0])
    random.Random(19).shuffle(order)
    assert order[:2] != ["年级", "班号"]
    assert {"班级号", "身份证类型", "出生地行政区划代码", "成员1关系", "是否留守儿童"} <= set(order)
    values = [str(value) for row in rows for value in row.values()]
    assert "1-男" in values and "汉族" in values and "10" in values  # code-label, label, code
    job = upload(_csv(rows, order), filename="采集表.csv")
    assert job.state == JobState.IMPORTED, (job.message_en, job.errors[:5])
    assert job.rows_written == 3
    # What was read past is named.
    assert "入学年月" in job.message and "政治面貌" in job.message_en
    for child in children:
        record = Student.objects.get(name=child.name, birth_date=child.birth_date)
        assert (record.sex, record.ethnicity, record.id_doc_type) == ("1", child.ethnicity, "1")
        assert record.reveal_id_number() == child.id_number


def test_the_national_layout_is_read_from_an_xlsx_too(upload, school):  # type: ignore[no-untyped-def]
    row = _national_row(next(iter(many_students(1))))
    order = sorted(row)
    job = upload(xlsx_bytes([[row[name] for name in order]], head=order), filename="采集表.xlsx")
    assert job.state == JobState.IMPORTED, (job.message_en, job.errors[:5])


def test_an_unknown_header_is_refused_naming_it(upload, school):  # type: ignore[no-untyped-def]
    row = _national_row(next(iter(many_students(1))))
    row["学生特长说明"] = "书法"
    order = list(row)
    job = upload(_csv([row], order), filename="采集表.csv")
    assert job.state == JobState.INVALID and job.rows_written == 0
    letters = cols_letter(order.index("学生特长说明"))
    assert f"学生特长说明（{letters}）" in job.message
    assert "does not know" in job.message_en and "学生特长说明" in job.message_en


def cols_letter(position: int) -> str:
    from xueji.imports.bounds import column_letters

    return column_letters(position + 1)


def test_a_code_and_a_label_that_disagree_are_refused_in_their_cell(upload, school):  # type: ignore[no-untyped-def]
    row = _national_row(next(iter(many_students(1))))
    row["性别"] = "1-女"
    order = list(row)
    job = upload(_csv([row], order), filename="采集表.csv")
    assert job.state == JobState.INVALID
    [error] = job.errors
    assert error[1] == order.index("性别") and error[3] == "code_label_mismatch"


@pytest.mark.parametrize(
    ("key", "text", "code"),
    [
        ("sex", "1-男", "1"),
        ("sex", "2－女", "2"),
        ("ethnicity", "01-汉", "01"),  # a shortened label under its code
        ("ethnicity", "1", "01"),  # a code Excel stored as the number 1
        ("id_doc_type", "A-护照", "6"),  # the national form numbers some documents otherwise
        ("id_doc_type", "6-香港特区护照/身份证明", "2"),
        ("id_doc_type", "1:居民身份证", "1"),
    ],
)
def test_code_label_values_are_read(key, text, code):  # type: ignore[no-untyped-def]
    field = next(f for f in cols.fields_of(cols.STUDENTS) if f.key == key)
    assert cols.reader_of(field)(text) == code


@pytest.mark.parametrize(("key", "text"), [("sex", "1-女"), ("ethnicity", "01-蒙古族")])
def test_code_label_values_that_disagree_are_unreadable(key, text):  # type: ignore[no-untyped-def]
    field = next(f for f in cols.fields_of(cols.STUDENTS) if f.key == key)
    with pytest.raises(cols.Unreadable):
        cols.reader_of(field)(text)
