"""validate_student_columns on a batch agrees, row by row, with validate_student_data."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji.core import codes
from xueji.core.errors import FieldErrors
from xueji.core.idnumbers import make_resident_id
from xueji.students.validation import (
    FamilyColumns,
    FamilyMemberData,
    StudentColumns,
    StudentData,
    validate_student_columns,
    validate_student_data,
    years_before,
)
from xueji.testing.factories import student_data

# The factories' divisions (福田区 440304) and two more; lookups need no database.
KNOWN_DIVISIONS = frozenset({"440304", "440305", "110105"})
division_exists = KNOWN_DIVISIONS.__contains__

STUDENT_FIELDS = [
    name for name in StudentColumns.__dataclass_fields__ if name not in ("size", "family")
]
MEMBER_FIELDS = [name for name in FamilyColumns.__dataclass_fields__ if name != "present"]
# What fills a block where a row has no such member: blank, or values that would be errors (and
# a guardian) if they were looked at.
PLACEHOLDERS = [
    FamilyMemberData(relation=""),
    FamilyMemberData(
        relation="bad",
        id_doc_type=codes.IdDocType.RESIDENT_ID,
        id_number="12345",
        phone="x",
        is_guardian=True,
        missing_reason="bad",
    ),
]

BAD_CODES = ["", "0", "00", "3", "57", "X", "chn", " 1", "10 "]
CHOICES: dict[str, list[str]] = {
    "sex": codes.Sex.values,
    "ethnicity": list(codes.ETHNICITY_NAMES),
    "id_doc_type": codes.IdDocType.values,
    "overseas_status": codes.OverseasStatus.values,
    "health": codes.Health.values,
    "hukou_nature": codes.HukouNature.values,
    "attendance_mode": codes.AttendanceMode.values,
    "entry_method": codes.EntryMethod.values,
    "left_behind": codes.LeftBehind.values,
    "disability_type": codes.DisabilityType.values,
    "nationality": ["CHN", "HKG", "USA"],
}
DIVISION_CODES = ["", "440304", "440305", "110105", "999999", "4403", "abc"]
NAMES = ["", "   ", "王小明", " 王小明\u3000", "王2明", "Li<b>", "阿" * 64, "阿" * 65, "O'Neil"]
PHONES = ["", "13800138000", "0755-8888 1234", "+8613800138000", "12", "phone", "1" * 25]
MEMBER_NAMES = ["", "  ", "王芳", " 王芳 ", "李1"]


@st.composite
def id_numbers(draw: st.DrawFn, number: str) -> str:
    """The number, mistyped in one character, spaced out, lower-cased, emptied or another's."""
    position = draw(st.integers(0, len(number) - 1))
    character = draw(st.sampled_from("0123456789Xx -"))
    adult = make_resident_id(
        draw(st.sampled_from(["110105", "440304", "999999"])),
        draw(st.dates(datetime.date(1960, 1, 1), datetime.date(2005, 12, 31))),
        draw(st.integers(0, 999)),
    )
    return draw(
        st.sampled_from(
            [
                number[:position] + character + number[position + 1 :],
                number[:position] + number[position + 1 :],
                f" {number[:6]} {number[6:14]} {number[14:].lower()} ",
                "",
                "E12345678",
                adult,
            ]
        )
    )


Mutation = Callable[[st.DrawFn, StudentData], None]


def name(draw: st.DrawFn, data: StudentData) -> None:
    data.name = draw(st.sampled_from(NAMES) | st.text(max_size=70))


def choice(draw: st.DrawFn, data: StudentData) -> None:
    field = draw(st.sampled_from(sorted(CHOICES)))
    setattr(data, field, draw(st.sampled_from(CHOICES[field] + BAD_CODES)))


def other_sex(draw: st.DrawFn, data: StudentData) -> None:
    data.sex = codes.Sex.FEMALE if data.sex == codes.Sex.MALE else codes.Sex.MALE


def birth_date(draw: st.DrawFn, data: StudentData) -> None:
    data.birth_date = draw(st.dates(datetime.date(1980, 1, 1), datetime.date(2040, 12, 31)))


def id_number(draw: st.DrawFn, data: StudentData) -> None:
    data.id_number = draw(id_numbers(data.id_number or "440304202003050011"))


def id_doc_type(draw: st.DrawFn, data: StudentData) -> None:
    none = codes.IdDocType.NONE
    data.id_doc_type = draw(st.sampled_from([none, none, *codes.IdDocType.values, "", "Q"]))
    data.id_number = draw(st.sampled_from([data.id_number, "", "E12345678"]))


def phone(draw: st.DrawFn, data: StudentData) -> None:
    data.phone = draw(st.sampled_from(PHONES))


def division(draw: st.DrawFn, data: StudentData) -> None:
    field = draw(st.sampled_from(["birthplace_code", "native_place_code", "hukou_division_code"]))
    setattr(data, field, draw(st.sampled_from(DIVISION_CODES)))


def no_family(draw: st.DrawFn, data: StudentData) -> None:
    data.family = []


def no_guardian(draw: st.DrawFn, data: StudentData) -> None:
    for member in data.family:
        member.is_guardian = False


def member_values(draw: st.DrawFn, field: str) -> Any:
    """A value, right or wrong, for one field of a family member."""
    if field == "is_guardian":
        return draw(st.booleans())
    if field == "id_number":
        born = datetime.date(1985, 7, 1)
        return draw(id_numbers(make_resident_id("110105", born, draw(st.integers(0, 999)))))
    values = {
        "relation": [*codes.Relation.values, "", "50", "father"],
        "name": MEMBER_NAMES,
        "id_doc_type": [*codes.IdDocType.values, "", "Q"],
        "phone": PHONES,
        "employer": ["", "深圳市某公司"],
        "missing_reason": [*codes.MissingReason.values, "", "", "gone", "deceased"],
    }
    return draw(st.sampled_from(values[field]))


def member_document(draw: st.DrawFn, data: StudentData) -> None:
    """A member with a resident ID card, its number right or not."""
    if data.family:
        member = data.family[draw(st.integers(0, len(data.family) - 1))]
        member.id_doc_type = codes.IdDocType.RESIDENT_ID
        member.id_number = member_values(draw, "id_number")


def added_member(draw: st.DrawFn, data: StudentData) -> None:
    """Another member, each field drawn (so named and missing, missing guardian and the like)."""
    data.family.append(
        FamilyMemberData(
            **{field: member_values(draw, field) for field in FamilyMemberData.__dataclass_fields__}
        )
    )


def changed_member(draw: st.DrawFn, data: StudentData) -> None:
    if data.family:
        member = data.family[draw(st.integers(0, len(data.family) - 1))]
        field = draw(st.sampled_from(sorted(FamilyMemberData.__dataclass_fields__)))
        setattr(member, field, member_values(draw, field))


MUTATIONS: list[Mutation] = [
    name,
    choice,
    other_sex,
    birth_date,
    id_number,
    id_doc_type,
    phone,
    division,
    no_family,
    no_guardian,
    member_document,
    added_member,
    changed_member,
]


@st.composite
def students(draw: st.DrawFn) -> StudentData:
    """The factories' valid student (of a drawn birth date and sex), with some fields broken."""
    born = draw(st.dates(datetime.date(2008, 1, 1), datetime.date(2022, 12, 31)))
    male = draw(st.booleans())
    data = student_data(
        birth_date=born,
        sex=codes.Sex.MALE if male else codes.Sex.FEMALE,
        id_number=make_resident_id("440304", born, draw(st.integers(0, 499)) * 2 + male),
    )
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), max_size=5)):
        mutation(draw, data)
    return data


Layout = list[list[int]]


def batch_of(
    rows: list[StudentData], placeholder: FamilyMemberData, layout: Layout | None = None
) -> StudentColumns:
    """The rows column by column, member i of row r in block layout[r][i] (by default i)."""
    if layout is None:
        layout = [list(range(len(row.family))) for row in rows]
    width = max(max(blocks, default=-1) + 1 for blocks in layout)
    at = [
        dict(zip(blocks, row.family, strict=True)) for blocks, row in zip(layout, rows, strict=True)
    ]
    family = []
    for index in range(width):
        members = [by_block.get(index) for by_block in at]
        family.append(
            FamilyColumns(
                present=[member is not None for member in members],
                **{
                    field: [getattr(member or placeholder, field) for member in members]
                    for field in MEMBER_FIELDS
                },
            )
        )
    return StudentColumns(
        size=len(rows),
        family=family,
        **{field: [getattr(row, field) for row in rows] for field in STUDENT_FIELDS},
    )


@st.composite
def layouts(draw: st.DrawFn, rows: list[StudentData]) -> Layout:
    """Members in blocks by index, or spread with gaps as an import's column groups leave them."""
    width = max(len(row.family) for row in rows) + draw(st.integers(0, 2))
    return [
        draw(
            st.just(list(range(len(row.family))))
            | st.sets(
                st.integers(0, max(width - 1, 0)),
                min_size=len(row.family),
                max_size=len(row.family),
            ).map(sorted)
        )
        for row in rows
    ]


def renumbered(errors: Mapping[str, Any], blocks: list[int]) -> dict[str, Any]:
    """A row's errors with "family.<block>." keys renamed "family.<member's index>."."""
    ordinal = {f"family.{block}.": f"family.{index}." for index, block in enumerate(blocks)}
    found = {}
    for key, value in errors.items():
        prefix = key[: key.find(".", len("family.")) + 1] if key.startswith("family.") else ""
        found[ordinal[prefix] + key[len(prefix) :] if prefix else key] = value
    return found


def described(errors: Mapping[str, list[ValidationError]]) -> dict[str, list[tuple[Any, ...]]]:
    """Errors by field as code, params and (untranslated) message, in their order."""
    return {
        key: [(error.code, error.params, str(error.message)) for error in found]
        for key, found in errors.items()
    }


def alone(data: StudentData) -> dict[str, list[tuple[Any, ...]]]:
    """validate_student_data's errors for one student (who is normalised in place)."""
    try:
        validate_student_data(data, division_exists=division_exists)
    except FieldErrors as refused:
        return described(refused.errors)
    return {}


@settings(deadline=None, max_examples=150)
@given(
    rows=st.lists(students(), min_size=1, max_size=6),
    placeholder=st.sampled_from(PLACEHOLDERS),
    data=st.data(),
)
def test_each_row_of_a_batch_gets_the_errors_it_gets_alone(
    rows: list[StudentData], placeholder: FamilyMemberData, data: st.DataObject
) -> None:
    """Errors and normalised names and numbers of each row are those of the student alone."""
    layout = data.draw(layouts(rows))
    columns = batch_of(copy.deepcopy(rows), copy.deepcopy(placeholder), layout)
    batch = validate_student_columns(columns, division_exists=division_exists)
    assert set(batch) <= set(range(len(rows)))
    for row, (student, blocks) in enumerate(zip(rows, layout, strict=True)):
        assert renumbered(described(batch.get(row, {})), blocks) == alone(student), row
        assert (columns.name[row], columns.id_number[row]) == (student.name, student.id_number)
        assert [index for index, b in enumerate(columns.family) if b.present[row]] == blocks
        for index, member in zip(blocks, student.family, strict=True):
            normalised = (columns.family[index].name[row], columns.family[index].id_number[row])
            assert normalised == (member.name, member.id_number)


def test_a_batch_reports_each_row_under_its_own_index() -> None:
    """Rows with more, fewer and no members: each error lands on its row and block."""
    complete = student_data()
    alone_with_none = student_data(family=[])
    third_member = FamilyMemberData(relation=codes.Relation.SISTER, name="张丽", phone="12")
    larger = student_data(name="王2明")
    larger.family.append(third_member)
    columns = batch_of([complete, alone_with_none, larger], PLACEHOLDERS[1])
    errors = validate_student_columns(columns, division_exists=division_exists)
    assert {
        row: {key: [e.code for e in found] for key, found in by_key.items()}
        for row, by_key in errors.items()
    } == {
        1: {"family": ["family_required"]},
        2: {"name": ["invalid_name"], "family.2.phone": ["invalid_phone"]},
    }


def test_thirty_years_before_29_february_is_28_february() -> None:
    """The birth-date rule's earliest day exists on a leap day too."""
    assert years_before(datetime.date(2028, 2, 29), 30) == datetime.date(1998, 2, 28)
    assert years_before(datetime.date(2032, 2, 29), 28) == datetime.date(2004, 2, 29)
    assert years_before(datetime.date(2026, 11, 29), 30) == datetime.date(1996, 11, 29)
