"""Import files for tests: rows in the template's column order, written as .xlsx or CSV."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable
from typing import Any

import xlsxwriter

from xueji.imports import columns as cols
from xueji.students.validation import StudentData
from xueji.testing.factories import student_data


def header(purpose: str = cols.STUDENTS) -> list[str]:
    return [f.header + ("*" if f.required else "") for f in cols.fields_of(purpose)]


def row_of(
    data: StudentData | None = None, *, grade: int = 1, class_number: int = 1, **cells: Any
) -> list[Any]:
    """A row as a registrar fills it: codes with their labels, 是/否, dates as text."""
    data = data or student_data()
    values: dict[str, Any] = {"grade": grade, "class_number": class_number}
    for f in cols.fields_of(cols.STUDENTS):
        if "." in f.key:
            _family, n, attr = f.key.split(".")
            members = data.family
            if int(n) < len(members):
                values[f.key] = getattr(members[int(n)], attr)
        elif hasattr(data, f.key):
            values[f.key] = getattr(data, f.key)
    values.update(cells)
    row: list[Any] = []
    for f in cols.fields_of(cols.STUDENTS):
        value = values.get(f.key, "")
        if f.kind == cols.CODE and value:
            value = cols.choice_text(str(value), f.choices)
        elif f.kind == cols.BOOL:
            value = "是" if value is True else "否" if value is False else value
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        row.append(value)
    return row


def xlsx_bytes(rows: Iterable[list[Any]], head: list[str] | None = None) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("数据")
    for c, title in enumerate(head or header()):
        sheet.write_string(0, c, title)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
    workbook.close()
    return out.getvalue()


def xls_bytes(rows: Iterable[list[Any]], head: list[str] | None = None) -> bytes:
    """An Excel 97-2003 workbook (BIFF8, what older office PCs still save), written by xlwt."""
    import xlwt  # type: ignore[import-untyped]

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("数据")
    for c, title in enumerate(head or header()):
        sheet.write(0, c, title)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: Iterable[list[Any]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header())
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def many_students(count: int) -> Iterable[StudentData]:
    """Valid grade-1 children with distinct resident ID numbers (boys, born 2019-09 to 2020-08)."""
    from xueji.core import codes
    from xueji.core.idnumbers import make_resident_id

    first = datetime.date(2019, 9, 1)
    for n in range(count):
        born = first + datetime.timedelta(days=n % 360)
        number = make_resident_id("440304", born, (n // 360) * 2 + 1)
        yield student_data(
            name="赵钱孙李周吴郑王"[n % 8] + "明亮华"[n % 3],
            birth_date=born,
            sex=codes.Sex.MALE,
            id_number=number,
        )
