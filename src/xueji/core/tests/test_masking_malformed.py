"""Masking of numbers that are not well-formed resident ID numbers: runs of 15 to 20 digits in
any text, and whatever an ID number column holds."""

import pytest

from xueji.core.exports import mask_document_number, mask_identifiers
from xueji.core.idnumbers import mask_id_number, mask_student_number

RESIDENT = "11010520100305002X"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("110105201003050", "110105*****3050"),  # 15 digits (an old ID number)
        ("11010520100305002", "110105*******5002"),  # 17: a digit left out
        ("110105201003050021", "110105********0021"),  # 18
        ("1101052010030500211", "110105*********0211"),  # 19: a digit doubled
        ("1101052010030500211X", "110105**********211X"),  # 20, ending in X
        ("G11010520100305002", "G110105*******5002"),  # a student number mistyped
        ("证件号 11010520100305002 有误", "证件号 110105*******5002 有误"),
    ],
)
def test_runs_of_15_to_20_digits_are_masked_in_any_text(text, masked):
    assert mask_identifiers(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "11010520100305",  # 14 digits
        "123456789012345678901",  # 21 digits
        "13800138000",  # a phone number
        "+8613800138000",
        "A110105201003050021",  # part of a longer code
        "2026-09-01 12:00",
    ],
)
def test_other_numbers_are_left_alone(text):
    assert mask_identifiers(text) == text


def test_well_formed_numbers_are_masked_as_before():
    assert mask_identifiers(RESIDENT) == mask_id_number(RESIDENT) == "110105********002X"
    assert mask_identifiers("J" + RESIDENT) == mask_student_number("J" + RESIDENT)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (RESIDENT, "110105********002X"),
        ("G" + RESIDENT, "G110105********002X"),
        ("11010520100305002", "110105*******5002"),
        ("1101052010030500211", "110105*********0211"),
        ("11010520100305", "************05"),  # 14: only the last two
        ("E1234567", "******67"),
        ("1234567", "******7"),
        ("1234", "***4"),
        ("123", "***"),
        ("无", "*"),
        ("", ""),
    ],
)
def test_an_id_number_columns_value_is_masked_whatever_it_holds(value, masked):
    assert mask_document_number(value) == masked
    # Masking again (a value masked when it was read) changes nothing.
    assert mask_document_number(masked) == masked
    assert mask_document_number(mask_identifiers(value)) == masked
