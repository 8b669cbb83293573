"""Workbooks written with XlsxWriter: the import templates and the error report.

The template's first sheet is the data sheet (Chinese headers, required ones marked *, code
columns with a drop-down of the national code list, ID number columns formatted as text so Excel
keeps all 18 characters); a hidden sheet holds the code lists; a last sheet explains the rules.
The updates template also comes pre-filled with a class's students as they are recorded.
The error report is a copy of the uploaded sheet with every bad cell filled and commented
(reason in Chinese and English) and a sheet listing the errors.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from xueji.core.exports import FORMULA_STARTS
from xueji.imports import columns as cols
from xueji.imports.pipeline import CellError

DATA_SHEET = "数据"
LISTS_SHEET = "代码表"
HELP_SHEET = "填写说明"
ERRORS_SHEET = "错误清单"
TEMPLATE_ROWS = 10_000
BAD_FILL = "#FFC7CE"

# Text is written as text: never taken for a formula, a link or a number.
_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
# The columns the template formats as text (Excel keeps their digits and leading zeros).
_TEXT_KINDS = (cols.DOCUMENT, cols.DIVISION, cols.TEXT, cols.CODE)

_HELP: dict[str, list[str]] = {
    cols.STUDENTS: [
        "本模板用于新生注册（含家庭成员），每行一名学生。请勿修改第一行表头。",
        "带 * 的列必须填写；代码列请从下拉列表选择（也可只填代码，如 01）。",
        "身份证件号列为文本格式，请勿改为数字，否则 Excel 会丢失末尾数字。",
        "居民身份证号须通过校验：出生日期、性别须与证件号一致，校验码正确。",
        "无居民身份证的学生选择相应证件类型；尚无证件的选“无证件”，证件号留空，系统分配J号。",
        "家庭成员至少填写一名；缺失的成员（如单亲）姓名留空，填写关系和缺失原因。",
        "年级与年龄不符时，在“年龄说明”列填写原因。",
        "导入为全部成功或全部不写入：有任何错误时，系统不会写入任何一行，并提供标注错误的文件。",
        "同一文件重复上传不会重复导入。",
    ],
    cols.UPDATES: [
        "本模板用于更新学生的非基础信息，以全国学籍号识别学生，姓名用于核对。",
        "基础信息（姓名、性别、出生日期、证件号等）只能通过关键数据变更申请修改。",
    ],
    cols.INTAKE: [
        "本模板用于录取名单：小学、初中毕业生升入本校起始年级（如 7 或 10 年级），沿用原学籍。",
        "每行填写年级、班号和学生的全国学籍号（G/J/L 开头）或 18 位居民身份证号；姓名用于核对。",
        "一年级新生没有学籍，请用“新生及家庭成员”模板登记。",
    ],
}


def template_xlsx(purpose: str, *, classes: Iterable[tuple[int, int, str]] = ()) -> bytes:
    """The template of a purpose as .xlsx bytes (a few hundred KB at most)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.xlsx"
        write_template(path, purpose, classes=classes)
        return path.read_bytes()


def write_template(
    out: Path,
    purpose: str,
    *,
    classes: Iterable[tuple[int, int, str]] = (),
    rows: Iterable[Mapping[str, Any]] = (),
    notes: Sequence[str] = (),
) -> int:
    """The template of a purpose written to `out` in constant memory, pre-filled with `rows`
    (one mapping of field key to the record's value per row: a code, a boolean, a date, text)
    written as a registrar fills them in ("1 走读", 是/否, 2019-03-07), with `notes` heading the
    instructions; returns the number of rows written.

    A blank template and a pre-filled one come out of this one function, so that their
    headers, drop-downs, text-formatted columns and instructions are the same."""
    fields = cols.fields_of(purpose)
    classes = list(classes)
    workbook = xlsxwriter.Workbook(str(out), {**_OPTIONS, "constant_memory": True})
    data = workbook.add_worksheet(DATA_SHEET)
    lists = workbook.add_worksheet(LISTS_SHEET)
    help_sheet = workbook.add_worksheet(HELP_SHEET)
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    required = workbook.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_color": "#C00000"}
    )
    text = workbook.add_format({"num_format": "@"})
    quoted = workbook.add_format({"num_format": "@", "quote_prefix": True})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for position, field in enumerate(fields):
        title = field.header + ("*" if field.required else "")
        data.write_string(0, position, title, required if field.required else header)
        if field.note:
            data.write_comment(0, position, field.note)
        width = max(10, len(field.header) * 2 + 2)
        if field.kind == cols.DATE:
            data.set_column(position, position, width, date)
        elif field.kind in _TEXT_KINDS:
            data.set_column(position, position, max(width, 20 if field.kind else width), text)
        else:
            data.set_column(position, position, width)
    written = 0
    for record in rows:
        written += 1
        for position, field in enumerate(fields):
            value = record.get(field.key)
            if field.kind == cols.DATE and isinstance(value, datetime.date):
                data.write_datetime(written, position, value, date)
                continue
            cell = _as_typed(field, value)
            if not cell:
                continue
            if field.kind in _TEXT_KINDS:
                # The cell's own format replaces its column's: text, as the column is, so that
                # a number typed over it stays text; Excel's quote prefix on what it would
                # take for a formula.
                style = quoted if cell.startswith(FORMULA_STARTS) else text
            else:
                style = None
            data.write_string(written, position, cell, style)
    # Below the pre-filled rows too: a student added at the end picks from the same lists.
    last = max(TEMPLATE_ROWS, written)
    grade = next((position for position, f in enumerate(fields) if f.key == "grade"), None)
    if classes and grade is not None:
        grades = sorted({str(g) for g, _n, _name in classes})
        data.data_validation(1, grade, last, grade, {"validate": "list", "source": grades})
    _drop_downs(data, lists, enumerate(fields), last)
    data.freeze_panes(1, 0)
    help_sheet.set_column(0, 0, 100)
    bold = workbook.add_format({"bold": True})
    help_sheet.write_string(0, 0, str(cols.PURPOSE_LABELS[purpose]), bold)
    r = 1
    for line in [*notes, *_HELP[purpose]]:
        help_sheet.write_string(r, 0, line)
        r += 1
    r += 1
    help_sheet.write_string(r, 0, "列说明", bold)
    r += 1
    for field in fields:
        note = "（必填）" if field.required else ""
        help_sheet.write_string(r, 0, f"{field.header}{note} {field.note}".strip())
        r += 1
    if classes:
        r += 1
        help_sheet.write_string(r, 0, "本校本学年班级（年级-班号 班级名称）", bold)
        for grade, number, name in classes:
            r += 1
            help_sheet.write_string(r, 0, f"{grade}-{number} {name}")
    workbook.close()
    return written


def _as_typed(field: cols.Field, value: Any) -> str:
    """A record's value as the registrar types it in the template: a code as its drop-down
    entry ("1 走读"), a boolean as 是/否, anything else as text; "" for none."""
    if value is None or value == "":
        return ""
    if field.kind == cols.CODE:
        return cols.choice_text(str(value), field.choices)
    if field.kind == cols.BOOL:
        return "是" if value else "否"
    return cols.text_of(value)


def error_report_xlsx(
    out: Path, *, header: list[Any], rows: Iterator[tuple[int, list[Any]]], errors: list[CellError]
) -> None:
    """A copy of the uploaded sheet, bad cells filled and commented, plus a list of the errors.

    The registrar corrects the flagged cells and uploads the same workbook again, so every cell
    holds exactly the text uploaded: text is written as text (never a formula, a link or a
    number, whatever it begins with), and text beginning with = + - @ gets Excel's quote prefix,
    a property of the cell's format, not an apostrophe in its value. The template's text columns
    (ID numbers, codes) are formatted as text, so that a number typed again stays text; the
    header row stays in view, and the code and 是/否 columns keep the template's drop-downs.
    Written in constant-memory mode (row by row); comments go with their rows."""
    by_row: dict[int, dict[int, list[CellError]]] = {}
    for error in errors:
        by_row.setdefault(error.row, {}).setdefault(max(error.column, 0), []).append(error)
    workbook = xlsxwriter.Workbook(str(out), {**_OPTIONS, "constant_memory": True})
    sheet = workbook.add_worksheet(DATA_SHEET)
    listing = workbook.add_worksheet(ERRORS_SHEET)
    lists = workbook.add_worksheet(LISTS_SHEET)
    formats: dict[tuple[bool, bool, bool], Any] = {}

    def style(*, flagged: bool, quoted: bool, text: bool) -> Any:
        """The cell's format: filled when flagged, quote-prefixed text that looks like a
        formula, the column's text format kept (a cell's format replaces its column's)."""
        key = (flagged, quoted, text)
        if key not in formats:
            properties: dict[str, Any] = {}
            if flagged:
                properties.update(bg_color=BAD_FILL, font_color="#9C0006", border=1)
            if quoted:
                properties["quote_prefix"] = True
            if text:
                properties["num_format"] = "@"
            formats[key] = workbook.add_format(properties) if properties else None
        return formats[key]

    bold = workbook.add_format({"bold": True})
    text_columns: set[int] = set()
    for c, value in enumerate(header):
        sheet.write_string(0, c, cols.text_of(value), bold)
        field = cols.field_of_header(value)
        if field is not None and field.kind in _TEXT_KINDS:
            text_columns.add(c)
            width = max(10, len(field.header) * 2 + 2, 20)
            sheet.set_column(c, c, width, style(flagged=False, quoted=False, text=True))
    sheet.freeze_panes(1, 0)
    last_row = 0
    for row, cells in rows:
        last_row = max(last_row, row - 1)
        flagged = by_row.get(row, {})
        width = max(len(cells), max(flagged, default=-1) + 1)
        for c in range(width):
            value = cells[c] if c < len(cells) else None
            text = cols.text_of(value)
            cell_style = style(
                flagged=c in flagged,
                quoted=text.startswith(FORMULA_STARTS),
                text=c in text_columns,
            )
            sheet.write_string(row - 1, c, text, cell_style)
            if c in flagged:
                sheet.write_comment(
                    row - 1,
                    c,
                    "\n".join(f"{e.message_zh}\n{e.message_en}" for e in flagged[c]),
                    {"x_scale": 2, "y_scale": 2},
                )
    _drop_downs(
        sheet,
        lists,
        ((c, field) for c, value in enumerate(header) if (field := cols.field_of_header(value))),
        last_row,
    )
    for c, title in enumerate(("行 Row", "列 Column", "值 Value", "原因", "Reason")):
        listing.write_string(0, c, title, bold)
    listing.freeze_panes(1, 0)
    for r, error in enumerate(sorted(errors, key=lambda e: (e.row, e.column)), start=1):
        column = cols.text_of(header[error.column]) if 0 <= error.column < len(header) else ""
        listing.write_number(r, 0, error.row)
        for c, text in enumerate((column, error.value, error.message_zh, error.message_en), 1):
            quoted = text.startswith(FORMULA_STARTS)
            listing.write_string(r, c, text, style(flagged=False, quoted=quoted, text=False))
    workbook.close()


def _drop_downs(
    sheet: Any, lists: Any, columns: Iterable[tuple[int, cols.Field]], last_row: int
) -> None:
    """The drop-downs of the code and 是/否 columns (position, field) down to `last_row`, the
    code lists on the hidden list sheet: the template's, and the same on the error copy, where
    a registrar fixing a flagged code picks it as in the template instead of typing "01 汉族"
    from memory. A warning, as in the template, never a refusal."""
    list_columns: dict[str, int] = {}
    entries: list[list[str]] = []
    for c, field in columns:
        if last_row < 1:
            break
        if field.kind == cols.BOOL:
            sheet.data_validation(1, c, last_row, c, {"validate": "list", "source": ["是", "否"]})
            continue
        if field.kind != cols.CODE or not field.choices:
            continue
        name = field.key.rsplit(".", 1)[-1]
        if name not in list_columns:
            list_columns[name] = len(entries)
            entries.append([name, *(f"{code} {label}" for code, label in field.choices)])
        letter = xl_col_to_name(list_columns[name])
        sheet.data_validation(
            1,
            c,
            last_row,
            c,
            {
                "validate": "list",
                "source": f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(field.choices) + 1}",
                "error_type": "warning",
                "error_message": "请从下拉列表中选择",
            },
        )
    # Constant-memory mode writes a sheet row by row: the lists go across, one row at a time.
    for r in range(max((len(entry) for entry in entries), default=0)):
        for c, entry in enumerate(entries):
            if r < len(entry):
                lists.write_string(r, c, entry[r])
    lists.hide()
