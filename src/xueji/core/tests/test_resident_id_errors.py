"""resident_id_errors agrees, number by number, with validate_resident_id."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji.core.codes import Sex
from xueji.core.idnumbers import (
    check_character,
    make_resident_id,
    normalize,
    resident_id_errors,
    validate_resident_id,
)

TODAY = datetime.date.today()
# Area codes in use throughout (东城区, 朝阳区) and with a history in GB/T 2260: 崇文区 until
# 2010, 密云区 from 2015, 福田区 from 1983, 龙华区 from 2016, 东山区 1983-2005, 燕山区 until
# 1986; 999999 never. Not county level: 广东 440000 and 深圳 440300 ever, 三亚 460200 since its
# districts of 2014 (before, it was; 东莞 441900 always is).
AREAS_IN_USE = ["110101", "110105"]
AREAS_WITH_HISTORY = [
    *["110103", "110118", "440304", "440309", "440102", "110110", "999999"],
    *["440000", "440300", "460200", "441900"],
]
SEXES = [Sex.MALE.value, Sex.FEMALE.value]
ID_CHARACTERS = "0123456789X"

Outcome = tuple[Any, Any, str]


def outcome(error: ValidationError) -> Outcome:
    """What the two must agree on: the code, the params and the (untranslated) message."""
    return (error.code, error.params, str(error.message))


def assert_agree(
    numbers: Sequence[str],
    birth_dates: Sequence[datetime.date] | None = None,
    sexes: Sequence[str] | None = None,
) -> dict[int, ValidationError]:
    """The batch's errors are, position by position, those validate_resident_id raises."""
    batch = resident_id_errors(
        [normalize(number) for number in numbers], birth_dates=birth_dates, sexes=sexes
    )
    alone: dict[int, Outcome] = {}
    for position, number in enumerate(numbers):
        try:
            validate_resident_id(
                number,
                birth_date=birth_dates[position] if birth_dates is not None else None,
                sex=sexes[position] if sexes is not None else None,
            )
        except ValidationError as error:
            alone[position] = outcome(error)
    assert {position: outcome(error) for position, error in batch.items()} == alone
    return batch


valid_births = st.dates(datetime.date(1950, 1, 1), TODAY)


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    """A number every rule accepts (when no birth date or sex is expected)."""
    area = draw(st.sampled_from(AREAS_IN_USE))
    return make_resident_id(area, draw(valid_births), draw(st.integers(0, 999)))


def encoded_birth(number: str) -> datetime.date | None:
    """The birth date written in a number, when its digits make one."""
    digits = number[6:14]
    if not digits.isdecimal():
        return None
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


@st.composite
def expectations(
    draw: st.DrawFn, numbers: Sequence[str]
) -> tuple[list[datetime.date] | None, list[str] | None]:
    """Birth dates (mostly the numbers' own) and sexes entered on the form, or none."""
    births = None
    if draw(st.booleans()):
        births = [
            draw(st.sampled_from([born, born]) | valid_births)
            if (born := encoded_birth(number)) is not None
            else draw(valid_births)
            for number in numbers
        ]
    size = len(numbers)
    sexes = draw(st.none() | st.lists(st.sampled_from(SEXES), min_size=size, max_size=size))
    return births, sexes


def with_check(body: str) -> str:
    """17 digits completed with their right check character, so that later rules are reached."""
    return body + check_character(body)


@st.composite
def typo(draw: st.DrawFn, number: str, alphabet: str = ID_CHARACTERS + "x ") -> str:
    """The number with one character replaced, deleted, inserted or swapped with the next."""
    position = draw(st.integers(0, len(number) - 1))
    character = draw(st.sampled_from(alphabet))
    kind = draw(st.sampled_from(["replace", "delete", "insert", "swap"]))
    if kind == "replace":
        return number[:position] + character + number[position + 1 :]
    if kind == "delete":
        return number[:position] + number[position + 1 :]
    if kind == "insert":
        return number[:position] + character + number[position:]
    following = number[position + 1 : position + 2]
    return number[:position] + following + number[position] + number[position + 2 :]


@settings(deadline=None)
@given(st.lists(st.text(max_size=22), max_size=8))
def test_arbitrary_text(numbers: list[str]) -> None:
    """Any text at all gets the same verdict."""
    assert_agree(numbers)


@settings(deadline=None)
@given(st.data())
def test_eighteen_digits_or_x(data: st.DataObject) -> None:
    """18 characters of digits and X, half of them with a right check character."""
    size = data.draw(st.integers(1, 8))
    numbers = []
    for _ in range(size):
        number = data.draw(st.text(ID_CHARACTERS, min_size=18, max_size=18))
        if data.draw(st.booleans()) and number[:17].isdigit():
            number = with_check(number[:17])
        numbers.append(number)
    births, sexes = data.draw(expectations(numbers))
    assert_agree(numbers, births, sexes)


@settings(deadline=None)
@given(st.data())
def test_valid_numbers_with_a_typo(data: st.DataObject) -> None:
    """Valid numbers, some with one mistyped character (a lower-case x or a space too)."""
    numbers = data.draw(st.lists(valid_numbers(), min_size=1, max_size=8))
    numbers = [
        data.draw(typo(number)) if data.draw(st.booleans()) else number for number in numbers
    ]
    births, sexes = data.draw(expectations(numbers))
    assert_agree(numbers, births, sexes)


@settings(deadline=None)
@given(st.data())
def test_expected_birth_date_and_sex(data: st.DataObject) -> None:
    """Valid numbers against a birth date right or some days off, and either sex."""
    numbers = data.draw(st.lists(valid_numbers(), min_size=1, max_size=8))
    shifts = st.sampled_from([0, 0, 1, -1, 365]) | st.integers(-20_000, 20_000)
    births = [
        validate_resident_id(number).birth_date + datetime.timedelta(days=data.draw(shifts))
        for number in numbers
    ]
    sexes = data.draw(
        st.lists(st.sampled_from(SEXES), min_size=len(numbers), max_size=len(numbers))
    )
    assert_agree(numbers, births, sexes)


@st.composite
def birth_digits(draw: st.DrawFn) -> str:
    """YYYYMMDD of a date in the future, before 1900, at a boundary, or of no date at all."""
    future = st.dates(TODAY + datetime.timedelta(days=1), datetime.date(9999, 12, 31))
    before_1900 = st.dates(datetime.date(1000, 1, 1), datetime.date(1899, 12, 31))
    boundaries = st.sampled_from(
        [TODAY, datetime.date(1900, 1, 1), datetime.date(1899, 12, 31), datetime.date(2000, 2, 29)]
    )
    real = st.one_of(future, before_1900, boundaries).map(lambda date: f"{date:%Y%m%d}")
    no_date = st.builds(
        "{:04d}{:02d}{:02d}".format,
        st.integers(0, 9999),
        st.integers(0, 99),
        st.integers(0, 99),
    )
    return draw(st.one_of(real, no_date, st.sampled_from(["20190230", "20230229", "20191301"])))


@settings(deadline=None)
@given(st.data())
def test_impossible_birth_dates(data: st.DataObject) -> None:
    """Right check characters around birth dates that are not real or not possible."""
    size = data.draw(st.integers(1, 8))
    numbers = [
        with_check(
            data.draw(st.sampled_from(AREAS_IN_USE))
            + data.draw(birth_digits())
            + data.draw(st.text("0123456789", min_size=3, max_size=3))
        )
        for _ in range(size)
    ]
    births, sexes = data.draw(expectations(numbers))
    assert_agree(numbers, births, sexes)


@settings(deadline=None)
@given(st.data())
def test_area_codes_not_in_use_in_the_birth_year(data: st.DataObject) -> None:
    """Area codes created, abolished or never in use, with birth years on either side."""
    size = data.draw(st.integers(1, 8))
    numbers = [
        make_resident_id(
            data.draw(st.sampled_from(AREAS_WITH_HISTORY + AREAS_IN_USE)),
            data.draw(st.dates(datetime.date(1975, 1, 1), TODAY)),
            data.draw(st.integers(0, 999)),
        )
        for _ in range(size)
    ]
    births, sexes = data.draw(expectations(numbers))
    assert_agree(numbers, births, sexes)


# Decimal digits of other scripts, as a Chinese input method types them (fullwidth) and beyond.
OTHER_DIGITS = ["０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९"]


@st.composite
def in_other_scripts(draw: st.DrawFn) -> str:
    """A valid number with some of its digits (often birth date to sex digit) in one script."""
    script = draw(st.sampled_from(OTHER_DIGITS))
    runs = st.sampled_from([set(range(6, 17)), set(range(14, 17))])
    positions = draw(runs | st.sets(st.integers(6, 17), max_size=3) | st.sets(st.integers(0, 17)))
    return "".join(
        script[int(character)] if position in positions and character.isdigit() else character
        for position, character in enumerate(draw(valid_numbers()))
    )


@settings(deadline=None, max_examples=200)
@given(st.data())
def test_digits_of_other_scripts(data: st.DataObject) -> None:
    """Valid numbers with some digits written in another script, against an expected sex."""
    numbers = data.draw(st.lists(in_other_scripts(), min_size=1, max_size=8))
    births, sexes = data.draw(expectations(numbers))
    assert_agree(numbers, births, sexes)


def test_a_batch_mixing_good_and_bad_numbers() -> None:
    """Only the bad numbers are reported, each at its own position with its own reason."""
    boy_born, girl_born = datetime.date(2015, 6, 1), datetime.date(2020, 3, 5)
    boy = make_resident_id("110105", boy_born, 1)
    girl = make_resident_id("440304", girl_born, 2)
    cases = [
        (boy, boy_born, Sex.MALE, None),
        (boy[:17] + ("0" if boy[17] != "0" else "1"), boy_born, Sex.MALE, "id_check_character"),
        (girl, girl_born, Sex.FEMALE, None),
        ("11010519491231002X", datetime.date(1949, 12, 31), Sex.FEMALE, None),
        ("4403042020030500", girl_born, Sex.FEMALE, "id_length"),
        (with_check(f"440304{TODAY.year + 1}0101001"), girl_born, Sex.MALE, "id_birth_date"),
        (with_check("44030420190230001"), girl_born, Sex.MALE, "id_birth_date"),
        (make_resident_id("110103", boy_born, 1), boy_born, Sex.MALE, "id_area_code"),
        (girl, girl_born, Sex.MALE, "id_sex_mismatch"),
        (boy, girl_born, Sex.MALE, "id_birth_date_mismatch"),
        (boy, boy_born, Sex.MALE, None),
    ]
    numbers = [number for number, _born, _sex, _code in cases]
    births = [born for _number, born, _sex, _code in cases]
    sexes = [sex.value for _number, _born, sex, _code in cases]
    batch = assert_agree(numbers, births, sexes)
    assert {position: error.code for position, error in batch.items()} == {
        position: code for position, (*_, code) in enumerate(cases) if code is not None
    }
    assert assert_agree(numbers).keys() == {1, 4, 5, 6, 7}
