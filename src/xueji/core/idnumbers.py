"""Resident ID numbers (GB 11643) and the lifelong student numbers built from them.

The check is complete: length, characters, the ISO 7064 MOD 11-2 check character, a real birth
date that agrees with the one entered, the sex digit against the sex entered, and an area code that
existed when the child was born (python-stdnum's table of GB/T 2260 codes with their history) and
was a county-level code then, as GB 11643 requires (xueji.core.areacodes: never a province's, a
city's only while it had no counties under it).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import mul

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

from xueji.core.areacodes import is_county_level, is_province_code
from xueji.core.codes import Sex

# ASCII digits only: \d would also take fullwidth and other scripts' digits, which int() reads.
_DIGITS17 = re.compile(r"^[0-9]{17}[0-9X]$")

# An ID number (15 digits, or 17 and a check character) or the digits of a student number, as a
# run of its own: a longer run of digits is not one. Spaces and hyphens inside are ignored.
_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{14,17}[0-9Xx](?![0-9])")
_NUMBER_SEPARATORS = re.compile(r"[\s\-]")


def holds_id_like_number(text: str) -> bool:
    """Does `text` hold what may be an ID number or a student number? Such text is kept out of
    addresses (query strings), which every proxy and access log keeps."""
    return bool(_ID_LIKE.search(_NUMBER_SEPARATORS.sub("", text)))


def query_holds_id_like_number(query: object) -> bool:
    """Does a query string (a QueryDict) hold an ID-like number, in a value or a name?"""
    lists = getattr(query, "lists", None)
    if lists is None:
        return False
    return any(
        holds_id_like_number(key) or any(holds_id_like_number(value) for value in values)
        for key, values in lists()
    )


@dataclass(frozen=True)
class ResidentId:
    number: str
    area_code: str
    birth_date: datetime.date
    sex: str


def normalize(number: str) -> str:
    """Strip spaces and make a lower-case x upper-case, as people type it."""
    if number and number.isalnum():
        return number.upper()
    return re.sub(r"\s+", "", number or "").upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of 17 digits."""
    return ric.calc_check_digit(first17 + "0")


# (area code, birth year) -> did the area code exist that year; the lookup in python-stdnum's
# table costs about half a millisecond, and an import checks hundreds of thousands of numbers.
_AREA_IN_USE: dict[tuple[str, str], bool] = {}


def _area_in_use(number: str) -> bool:
    key = (number[:6], number[6:10])
    found = _AREA_IN_USE.get(key)
    if found is None:
        try:
            ric.get_birth_place(number)
            found = True
        except Exception:
            found = False
        if len(_AREA_IN_USE) < 200_000:
            _AREA_IN_USE[key] = found
    return found


def _not_county_level(code: str) -> ValidationError:
    # The birth year is not named: beside a masked number it would give four hidden digits away.
    if is_province_code(code):
        return ValidationError(
            _(
                "The area code %(code)s is a province's: an ID number carries the code of a "
                "county-level division (GB 11643)."
            ),
            code="id_area_not_county",
            params={"code": code},
        )
    return ValidationError(
        _(
            "The area code %(code)s is that of a city that had districts or counties when the "
            "holder was born: an ID number carries the code of the county-level division "
            "(GB 11643)."
        ),
        code="id_area_not_county",
        params={"code": code},
    )


def validate_resident_id(
    number: str,
    *,
    birth_date: datetime.date | None = None,
    sex: str | None = None,
) -> ResidentId:
    """Check a resident ID number fully, each failure with its own code and reason."""
    number = normalize(number)
    if len(number) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(length)d."),
            code="id_length",
            params={"length": len(number)},
        )
    if not _DIGITS17.match(number):
        raise ValidationError(
            _("An ID number is 17 digits followed by a digit or X."), code="id_characters"
        )
    if number[-1] != check_character(number[:17]):
        raise ValidationError(
            _("The check character does not match: the number is mistyped."),
            code="id_check_character",
        )
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            # The digits are not repeated: with a masked number beside it (first 6, last 4),
            # the message would give the whole number away.
            _("The birth date in the ID number is not a real date."),
            code="id_birth_date",
        ) from None
    if born > datetime.date.today() or born.year < 1900:
        raise ValidationError(
            _("The birth date in the ID number is not a possible date."),
            code="id_birth_date",
        )
    if not _area_in_use(number):
        raise ValidationError(
            _("The area code %(code)s did not exist when the child was born."),
            code="id_area_code",
            params={"code": number[:6]},
        )
    if not is_county_level(number[:6], born.year):
        raise _not_county_level(number[:6])
    encoded_sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    if birth_date is not None and birth_date != born:
        raise ValidationError(
            _("The birth date in the ID number is not the birth date entered (%(entered)s)."),
            code="id_birth_date_mismatch",
            params={"entered": birth_date.isoformat()},
        )
    if sex is not None and sex != encoded_sex:
        raise ValidationError(
            _("The ID number belongs to a %(id_sex)s, but %(entered)s was entered."),
            code="id_sex_mismatch",
            params={"id_sex": Sex(encoded_sex).label, "entered": Sex(sex).label},
        )
    return ResidentId(number=number, area_code=number[:6], birth_date=born, sex=encoded_sex)


_WEIGHTS = tuple(pow(2, 17 - position, 11) for position in range(17))
_CHECK_CHARACTERS = "10X98765432"
# The birth date digits (YYYYMMDD) of numbers seen -> the date, or None when it is no date.
_BIRTH_DIGITS: dict[str, datetime.date | None] = {}


def _birth_of(digits: str) -> datetime.date | None:
    found = _BIRTH_DIGITS.get(digits, _BIRTH_DIGITS)
    if found is _BIRTH_DIGITS:
        try:
            found = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            found = None
        if len(_BIRTH_DIGITS) < 100_000:
            _BIRTH_DIGITS[digits] = found
    return found  # type: ignore[return-value]


def resident_id_errors(
    numbers: Sequence[str],
    *,
    birth_dates: Sequence[datetime.date | None] | None = None,
    sexes: Sequence[str | None] | None = None,
) -> dict[int, ValidationError]:
    """validate_resident_id for many numbers at once: position -> its error, for the numbers
    that fail. The numbers are normalised already. Each number passes a quick test of every rule
    of validate_resident_id; one that does not is checked by validate_resident_id itself, so the
    error and its wording are that function's (the two are held equal by a property test)."""
    errors: dict[int, ValidationError] = {}
    today = datetime.date.today()
    weights = _WEIGHTS
    for position, number in enumerate(numbers):
        expected_born = birth_dates[position] if birth_dates is not None else None
        expected_sex = sexes[position] if sexes is not None else None
        if (
            len(number) == 18
            and _DIGITS17.match(number) is not None
            and _CHECK_CHARACTERS[sum(map(mul, map(int, number[:17]), weights)) % 11] == number[17]
        ):
            born = _birth_of(number[6:14])
            if (
                born is not None
                and born.year >= 1900
                and born <= today
                and (expected_born is None or expected_born == born)
                and (
                    expected_sex is None or expected_sex == ("1" if number[16] in "13579" else "2")
                )
                and _area_in_use(number)
                and is_county_level(number[:6], born.year)
            ):
                continue
        try:
            validate_resident_id(number, birth_date=expected_born, sex=expected_sex)
        except ValidationError as error:
            errors[position] = error
    return errors


def g_number(resident_id: str) -> str:
    """The formal student number: G followed by the resident ID number."""
    return "G" + resident_id


def j_number(area_code: str, birth_date: datetime.date, sequence: int) -> str:
    """A J number: area code, birth date, 3-digit sequence and a MOD 11-2 check character."""
    if not 0 < sequence < 1000:
        raise ValueError("sequence must be 1..999")
    body = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return "J" + body + check_character(body)


def mask_id_number(number: str | None) -> str:
    """Keep the area code and the last four characters: 110105********002X."""
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_student_number(number: str | None) -> str:
    """The same masking for student numbers, which carry a letter in front: G110105********002X."""
    if not number:
        return ""
    return number[0] + mask_id_number(number[1:])


def make_resident_id(area_code: str, birth_date: datetime.date, sequence: int) -> str:
    """A well-formed resident ID number (for demo and synthetic data): odd sequence is male."""
    body = f"{area_code}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return body + check_character(body)
