import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from xueji.core.codes import Sex
from xueji.core.idnumbers import (
    check_character,
    j_number,
    make_resident_id,
    mask_id_number,
    mask_student_number,
    validate_resident_id,
)

VALID = make_resident_id("110105", datetime.date(2015, 6, 1), 1)  # a boy from 朝阳区


def reason(number: str, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(number, **kwargs)
    return caught.value.code


def test_a_valid_number_passes_and_is_decoded():
    resident = validate_resident_id(VALID.lower(), birth_date=datetime.date(2015, 6, 1), sex="1")
    assert resident.area_code == "110105"
    assert resident.birth_date == datetime.date(2015, 6, 1)
    assert resident.sex == Sex.MALE


def test_known_number_with_x_check_character():
    # 11010519491231002X is the standard's own example (a woman born 1949-12-31).
    assert validate_resident_id("11010519491231002X").sex == Sex.FEMALE


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010520150601001", "id_length"),
        ("1101052015060100123", "id_length"),
        ("11010520150601A012", "id_characters"),
        ("1101052015060100X1", "id_characters"),
    ],
)
def test_malformed_numbers_are_refused_with_their_reason(number, code):
    assert reason(number) == code


def test_a_wrong_check_character_is_refused():
    wrong = VALID[:17] + ("0" if VALID[17] != "0" else "1")
    assert reason(wrong) == "id_check_character"


def test_an_impossible_birth_date_is_refused():
    body = "11010520150231001"  # 31 February
    assert reason(body + check_character(body)) == "id_birth_date"


def test_a_birth_date_in_the_future_is_refused():
    body = f"110105{datetime.date.today().year + 1}0101001"
    assert reason(body + check_character(body)) == "id_birth_date"


def test_an_unknown_area_code_is_refused():
    body = "99999920150601001"
    assert reason(body + check_character(body)) == "id_area_code"


def test_an_area_code_abolished_before_birth_is_refused():
    # 110103 (崇文区) was merged into 东城区 in 2010: a child born in 2015 cannot carry it.
    assert reason(make_resident_id("110103", datetime.date(2015, 6, 1), 1)) == "id_area_code"
    validate_resident_id(make_resident_id("110103", datetime.date(2005, 6, 1), 1))


def test_a_birth_date_disagreeing_with_the_form_is_refused():
    assert reason(VALID, birth_date=datetime.date(2015, 6, 2)) == "id_birth_date_mismatch"


def test_a_sex_disagreeing_with_the_form_is_refused():
    assert reason(VALID, sex=Sex.FEMALE) == "id_sex_mismatch"


@given(
    birth=st.dates(datetime.date(1990, 1, 1), datetime.date(2024, 12, 31)),
    sequence=st.integers(0, 999),
    position=st.integers(0, 16),
    replacement=st.integers(0, 9),
)
def test_any_single_digit_typo_is_caught(birth, sequence, position, replacement):
    number = make_resident_id("440304", birth, sequence)
    validate_resident_id(number)
    typo = number[:position] + str(replacement) + number[position + 1 :]
    if typo != number:
        with pytest.raises(ValidationError):
            validate_resident_id(typo)


def test_j_numbers_carry_a_check_character():
    number = j_number("440304", datetime.date(2019, 2, 3), 7)
    assert number.startswith("J44030420190203007")
    assert number[-1] == check_character(number[1:18])
    with pytest.raises(ValueError):
        j_number("440304", datetime.date(2019, 2, 3), 1000)


def test_masking_hides_the_birth_date():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_student_number("G11010519491231002X") == "G110105********002X"
    assert mask_id_number("") == ""


@pytest.mark.parametrize("digits", ["20190230", "20991231"], ids=["no date", "future"])
def test_a_refused_birth_date_is_not_repeated_in_the_message(digits):
    """Beside a masked number (its first 6 and last 4 characters, as a county reads an import's
    errors), the middle 8 digits in the message would give the whole number away."""
    first17 = "110105" + digits + "001"
    number = first17 + check_character(first17)
    with pytest.raises(ValidationError) as refused:
        validate_resident_id(number)
    assert refused.value.code == "id_birth_date"
    assert digits not in str(refused.value.message % (refused.value.params or {}))


def test_a_birth_date_mismatch_names_only_the_date_entered():
    entered = datetime.date(2015, 6, 2)
    with pytest.raises(ValidationError) as refused:
        validate_resident_id(VALID, birth_date=entered)
    text = str(refused.value.message % (refused.value.params or {}))
    assert refused.value.code == "id_birth_date_mismatch"
    assert "2015-06-02" in text and "2015-06-01" not in text and "20150601" not in text
