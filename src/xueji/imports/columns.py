"""The columns of each import template: Chinese header, the field it fills, how a cell is read.

A cell is only *read* here (a code list entry "01 汉族" or "汉族" becomes "01", 是/否 a boolean,
a date cell or text a date); every rule about the value is the registration form's own
(xueji.students.validation.validate_student_data), applied to the whole row. A cell that cannot
be read at all (a date that is no date) is an error of that cell.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from xueji.core import codes

TEXT, CODE, DATE, BOOL, DIVISION, DOCUMENT, INTEGER = (
    "text",
    "code",
    "date",
    "bool",
    "division",
    "document",
    "integer",
)
YES = ("是", "Y", "YES", "TRUE", "1", "√")
NO = ("否", "N", "NO", "FALSE", "0")
FAMILY_BLOCKS = 2


@dataclass(frozen=True)
class Field:
    """One column: its key (a StudentData attribute, "family.N.attr" or an import-only key),
    Chinese header, kind, code list and whether the template marks it required."""

    key: str
    header: str
    kind: str = TEXT
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False
    note: str = ""
    # The names the national collection form (全国中小学生学籍信息采集表) and the national
    # system's exports give the same item, read as this column.
    aliases: tuple[str, ...] = ()


def _zh(choices: Any) -> tuple[tuple[str, str], ...]:
    with translation.override("zh-hans"):
        return tuple((str(value), str(label)) for value, label in choices)


@cache
def code_lists() -> dict[str, tuple[tuple[str, str], ...]]:
    """The national code lists, with Chinese labels, by the name the template's sheet uses."""
    return {
        "sex": _zh(codes.Sex.choices),
        "ethnicity": tuple(codes.ETHNICITY_CHOICES),
        "nationality": _nationalities(),
        "id_doc_type": _zh(codes.IdDocType.choices),
        "overseas_status": _zh(codes.OverseasStatus.choices),
        "health": _zh(codes.Health.choices),
        "hukou_nature": _zh(codes.HukouNature.choices),
        "attendance_mode": _zh(codes.AttendanceMode.choices),
        "entry_method": _zh(codes.EntryMethod.choices),
        "left_behind": _zh(codes.LeftBehind.choices),
        "disability_type": _zh(codes.DisabilityType.choices),
        "relation": _zh(codes.Relation.choices),
        "missing_reason": _zh(codes.MissingReason.choices),
    }


@cache
def _nationalities() -> tuple[tuple[str, str], ...]:
    return tuple(
        (code, codes.nationality_label(code)) for code, _name in codes.nationality_choices()
    )


def _code(key: str, header: str, list_name: str, **kwargs: Any) -> Field:
    return Field(key, header, CODE, code_lists()[list_name], **kwargs)


def _family(n: int) -> list[Field]:
    p = f"家庭成员{n + 1}"
    k = f"family.{n}."
    national = f"成员{n + 1}"  # how the national form names the member's items
    return [
        _code(
            k + "relation", f"{p}关系", "relation", required=n == 0, aliases=(f"{national}关系",)
        ),
        Field(
            k + "name", f"{p}姓名", note="缺失时留空并填写缺失原因", aliases=(f"{national}姓名",)
        ),
        _code(
            k + "id_doc_type",
            f"{p}证件类型",
            "id_doc_type",
            aliases=(f"{national}身份证件类型", f"{national}证件类型"),
        ),
        Field(
            k + "id_number",
            f"{p}证件号码",
            DOCUMENT,
            aliases=(f"{national}身份证件号", f"{national}身份证件号码", f"{p}身份证件号"),
        ),
        Field(k + "phone", f"{p}联系电话", aliases=(f"{national}联系电话",)),
        Field(k + "employer", f"{p}工作单位", aliases=(f"{national}工作单位",)),
        Field(k + "is_guardian", f"{p}是否监护人", BOOL, aliases=(f"{national}是否监护人",)),
        _code(k + "missing_reason", f"{p}缺失原因", "missing_reason"),
    ]


def _other_info() -> list[Field]:
    return [
        Field("former_name", "曾用名"),
        Field("address", "现住址"),
        Field("phone", "联系电话"),
        _code("attendance_mode", "就读方式", "attendance_mode"),
        _code("entry_method", "入学方式", "entry_method"),
        Field("only_child", "是否独生子女", BOOL),
        Field("attended_preschool", "是否受过学前教育", BOOL),
        _code("left_behind", "留守儿童", "left_behind", aliases=("是否留守儿童",)),
        Field("migrant_child", "是否进城务工人员随迁子女", BOOL),
        Field("orphan", "是否孤儿", BOOL),
        Field("martyr_family", "是否烈士或优抚子女", BOOL),
        Field("inclusive_education", "是否随班就读", BOOL, aliases=("随班就读",)),
        _code("disability_type", "残疾类型", "disability_type", aliases=("残疾人类型",)),
        Field("needs_aid", "是否需要申请资助", BOOL),
        Field("needs_school_bus", "是否需要乘坐校车", BOOL),
    ]


def _basic() -> list[Field]:
    return [
        Field("name", "姓名", required=True),
        _code("sex", "性别", "sex", required=True),
        Field("birth_date", "出生日期", DATE, required=True, note="如 2019-03-07"),
        Field(
            "birthplace_code",
            "出生地",
            DIVISION,
            required=True,
            note="6位行政区划代码",
            aliases=("出生地行政区划代码",),
        ),
        Field("native_place_code", "籍贯", DIVISION, note="6位行政区划代码"),
        _code("ethnicity", "民族", "ethnicity", required=True),
        _code("nationality", "国籍/地区", "nationality", required=True),
        _code("id_doc_type", "身份证件类型", "id_doc_type", required=True, aliases=("身份证类型",)),
        Field(
            "id_number",
            "身份证件号",
            DOCUMENT,
            note="居民身份证填18位，无证件留空",
            aliases=("身份证件号码", "身份证号"),
        ),
        _code("overseas_status", "港澳台侨外", "overseas_status", required=True),
        _code("health", "健康状况", "health", required=True),
        Field(
            "hukou_division_code",
            "户口所在地",
            DIVISION,
            note="6位行政区划代码",
            aliases=("户口所在地行政区划", "户口所在地行政区划代码"),
        ),
        _code("hukou_nature", "户口性质", "hukou_nature", required=True),
    ]


STUDENTS, UPDATES, INTAKE = "students", "updates", "intake"
PURPOSES = (STUDENTS, UPDATES, INTAKE)
PURPOSE_LABELS = {
    STUDENTS: _("New students with their families"),
    UPDATES: _("Updates of other (non-basic) information"),
    INTAKE: _("Intake list"),
}


@cache
def fields_of(purpose: str) -> list[Field]:
    """The template's columns, in order."""
    if purpose == STUDENTS:
        family = [field for n in range(FAMILY_BLOCKS) for field in _family(n)]
        return [
            Field("grade", "年级", INTEGER, required=True, note="1-12，幼儿园为0"),
            Field("class_number", "班号", INTEGER, required=True, aliases=("班级号", "班级")),
            *_basic(),
            *_other_info(),
            *family,
            Field("age_confirmation", "年龄说明", note="年龄与年级不符时填写原因"),
        ]
    if purpose == UPDATES:
        return [
            Field("student_number", "全国学籍号", DOCUMENT, required=True),
            Field("name", "姓名", required=True, note="用于核对"),
            *_other_info(),
        ]
    if purpose == INTAKE:
        return [
            Field("grade", "年级", INTEGER, required=True, note="本校起始年级，如 7 或 10"),
            Field("class_number", "班号", INTEGER, required=True),
            Field(
                "student_number",
                "全国学籍号",
                DOCUMENT,
                required=True,
                note="G/J/L开头的学籍号，或18位居民身份证号",
            ),
            Field("name", "姓名", note="核对用"),
        ]
    raise ValueError(purpose)


# Items of the national collection form that this registry does not keep: a file in the
# national form's layout may hold them; they are read past, and the import says so by name.
NATIONAL_ITEMS_NOT_KEPT = frozenset(
    [
        "入学年月", "政治面貌", "姓名拼音", "身份证件有效期", "特长", "学籍辅号", "班内学号",
        "通信地址", "家庭地址", "邮政编码", "电子信箱", "主页地址", "学生来源", "照片", "血型",
        "是否由政府购买学位", "是否享受一补", "上下学距离", "上下学方式", "序号",
        *(
            f"成员{n}{item}"
            for n in (1, 2)
            for item in ("关系说明", "现住址", "户口所在地", "民族", "职务")
        ),
    ]
)  # fmt: skip


def header_key(text: Any) -> str:
    """A header as matched: whitespace and the required mark (*) removed."""
    return re.sub(r"[\s*＊]", "", str(text or ""))


def header_keys(field: Field) -> tuple[str, ...]:
    """The header and the national form's names for the field, as matched."""
    return (header_key(field.header), *(header_key(alias) for alias in field.aliases))


@cache
def _fields_by_header() -> dict[str, Field]:
    found: dict[str, Field] = {}
    for purpose in PURPOSES:
        for field in fields_of(purpose):
            for key in header_keys(field):
                found.setdefault(key, field)
    return found


def field_of_header(text: Any) -> Field | None:
    """The template field a sheet's header names (the same header is the same field in every
    template), or None for a column of no template."""
    return _fields_by_header().get(header_key(text))


def document_columns(header: Sequence[Any]) -> frozenset[int]:
    """The positions of a sheet's ID number and student number columns (DOCUMENT), whose
    values are shown masked whatever they hold."""
    return frozenset(
        position
        for position, text in enumerate(header)
        if (found := field_of_header(text)) is not None and found.kind == DOCUMENT
    )


# ---- reading one cell --------------------------------------------------------------------------


class Unreadable(Exception):
    def __init__(self, error: ValidationError) -> None:
        super().__init__(str(error))
        self.error = error


def text_of(value: Any) -> str:
    """A cell as text: whole numbers without ".0", dates as ISO, text stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def read_cell(field: Field, value: Any) -> Any:
    """The field's value from a cell, or Unreadable."""
    if field.kind == DATE:
        return _read_date(value)
    if field.kind == DOCUMENT and isinstance(value, float) and abs(value) >= 1e15:
        raise Unreadable(
            ValidationError(
                _(
                    "Excel stored this number as a number and lost its last digits; format the "
                    "column as text and type it again."
                ),
                code="number_lost_digits",
            )
        )
    text = text_of(value)
    if field.kind == BOOL:
        upper = text.upper()
        if not upper:
            return None  # blank: the field's default, or no change
        if upper in YES:
            return True
        if upper in NO:
            return False
        raise Unreadable(
            ValidationError(
                _("“%(value)s” is neither 是 nor 否."), code="not_yes_no", params={"value": text}
            )
        )
    if field.kind == CODE:
        code = code_of(text, field.choices)
        if text and field.choices and all(code != listed for listed, _label in field.choices):
            raise Unreadable(
                ValidationError(
                    _(
                        "“%(value)s” is not in this column's list; choose from the drop-down, "
                        "such as “%(example)s”."
                    ),
                    code="invalid_choice",
                    params={"value": text, "example": _closest(text, field.choices)},
                )
            )
        return code
    if field.kind == INTEGER:
        if not text:
            return None
        # "2班", "7年级", "七年级": what a registrar types in the grade and class columns.
        text = _UNIT.sub("", text)
        text = str(_CHINESE_NUMBERS.get(text, text))
        if not re.fullmatch(r"\d{1,3}", text):
            raise Unreadable(
                ValidationError(
                    _("“%(value)s” is not a whole number."),
                    code="not_a_number",
                    params={"value": text},
                )
            )
        return int(text)
    return text


_UNIT = re.compile(r"\s*(?:班|年级)$")
_CHINESE_NUMBERS = {
    name: number
    for number, name in enumerate(
        ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"], start=1
    )
}


def _closest(text: str, choices: Sequence[tuple[str, str]]) -> str:
    """The entry of a code list the text most likely means ("汉" → "01 汉族"), else the first."""
    for code, label in choices:
        if text in label or label in text:
            return f"{code} {label}"
    code, label = choices[0]
    return f"{code} {label}"


def reader_of(field: Field) -> Any:
    """read_cell for one field, with the common cases (text cells, codes as listed, ISO dates)
    taken first: an import reads millions of cells."""
    if field.kind == TEXT or field.kind == DIVISION:

        def text(value: Any) -> Any:
            return value.strip() if type(value) is str else read_cell(field, value)

        return text
    if field.kind == CODE:
        known: dict[str, str] = {}
        for code, label in field.choices:
            known[label] = known[f"{code} {label}"] = code
        for code, _label in field.choices:
            known[code] = code

        def as_code(value: Any) -> Any:
            if type(value) is str:
                found = known.get(value)
                if found is not None:
                    return found
                if _CODE_AND_LABEL.match(value):
                    return code_and_label(value.strip(), field)
            return read_cell(field, value)

        return as_code
    if field.kind == DATE:

        def date(value: Any) -> Any:
            if type(value) is str and len(value) == 10:
                try:
                    return datetime.date.fromisoformat(value)
                except ValueError:
                    pass
            return read_cell(field, value)

        return date
    if field.kind == BOOL:

        def yes_no(value: Any) -> Any:
            if value == "是":
                return True
            if value == "否":
                return False
            if value == "" or value is None:
                return None
            return read_cell(field, value)

        return yes_no
    return lambda value: read_cell(field, value)


# "1-男", "01－汉族", "1:男", "A-护照": a code and its label, as the national system exports them.
_CODE_AND_LABEL = re.compile(r"^\s*([0-9A-Za-z]{1,3})\s*[-－—:：_]\s*(\S.*?)\s*$")
# The national collection form's own labels (and codes, where its list numbers them otherwise)
# of entries the registry's lists name differently.
NATIONAL_LABELS: dict[str, dict[str, str]] = {
    "id_doc_type": {
        "香港特区护照/身份证明": codes.IdDocType.HONG_KONG,
        "澳门特区护照/身份证明": codes.IdDocType.MACAO,
        "境外永久居住证": codes.IdDocType.FOREIGN_PERMANENT,
        "其他": codes.IdDocType.OTHER,
    },
}
NATIONAL_CODES: dict[str, dict[str, str]] = {
    "id_doc_type": {
        "6": codes.IdDocType.HONG_KONG,
        "7": codes.IdDocType.MACAO,
        "8": codes.IdDocType.TAIWAN_PERMIT,
        "9": codes.IdDocType.FOREIGN_PERMANENT,
        "A": codes.IdDocType.PASSPORT,
        "Z": codes.IdDocType.OTHER,
    },
}


def _list_name(field: Field) -> str:
    return field.key.rsplit(".", 1)[-1]


def code_and_label(text: str, field: Field) -> str:
    """A "code-label" cell read: the label says which entry (lists number some entries
    otherwise than the national form does); a code that names another entry than its label is
    Unreadable, as is a label of no entry."""
    found = _CODE_AND_LABEL.match(text)
    assert found is not None
    code, label = found[1], found[2]
    by_label = {listed_label: listed for listed, listed_label in field.choices}
    by_label.update(NATIONAL_LABELS.get(_list_name(field), {}))
    chosen = by_label.get(label)
    listed_codes = {listed for listed, _label in field.choices}
    if chosen is None:
        # A label written otherwise ("汉" for 汉族): the code decides if the label is part of its.
        own = dict(field.choices).get(code)
        if own is not None and (label in own or own in label):
            return code
        raise Unreadable(
            ValidationError(
                _(
                    "“%(value)s” is not in this column's list; choose from the drop-down, "
                    "such as “%(example)s”."
                ),
                code="invalid_choice",
                params={"value": text, "example": _closest(label, field.choices)},
            )
        )
    national = NATIONAL_CODES.get(_list_name(field), {}).get(code)
    if code == chosen or national == chosen or (code not in listed_codes and national is None):
        return chosen
    raise Unreadable(
        ValidationError(
            _(
                "In “%(value)s” the code and the label name different entries; write one of "
                "them, such as “%(example)s”."
            ),
            code="code_label_mismatch",
            params={"value": text, "example": choice_text(chosen, field.choices)},
        )
    )


def code_of(text: str, choices: Sequence[tuple[str, str]]) -> str:
    """ "01 汉族", "01" or "汉族" → "01"; anything else is returned as typed for the validator
    to refuse with its own message."""
    if not text:
        return ""
    first = text.split(maxsplit=1)[0]
    for code, label in choices:
        if first == code or text == label or text == f"{code} {label}":
            return code
    if first.isdigit():
        # A code typed as a number loses its leading zeros in Excel ("1" for 民族 01).
        for code, _label in choices:
            if len(code) > len(first) and first.zfill(len(code)) == code:
                return code
    return text


def _read_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = text_of(value)
    if not text:
        return None
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise Unreadable(
        ValidationError(
            _("“%(value)s” is not a date (write it as 2019-03-07)."),
            code="not_a_date",
            params={"value": text},
        )
    )


def choice_text(code: str, choices: Sequence[tuple[str, str]]) -> str:
    """The drop-down entry for a code: "01 汉族"."""
    for value, label in choices:
        if value == code:
            return f"{value} {label}"
    return code
