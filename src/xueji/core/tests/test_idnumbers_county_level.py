"""GB 11643: an ID number carries the code of a county-level division. A province's code never
is one; a city's only while the city had no districts or counties (不设区的地级市), at the
holder's birth (issue 18, item 2)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from xueji.core.areacodes import cities_without_counties, is_county_level
from xueji.core.idnumbers import make_resident_id, resident_id_errors, validate_resident_id

BORN = datetime.date(2017, 2, 20)


def reason(number: str) -> str | None:
    try:
        validate_resident_id(number)
    except ValidationError as error:
        return error.code
    return None


def test_the_number_the_probe_registered_is_refused_as_a_province_code():
    # Right check character, a real date: only its area code is wrong.
    assert reason("440000201702202946") == "id_area_not_county"


@pytest.mark.parametrize("area", ["110000", "440000", "440300", "440100", "110100", "469000"])
def test_province_and_city_codes_are_refused(area):
    number = make_resident_id(area, BORN, 294)
    assert reason(number) == "id_area_not_county"
    assert resident_id_errors([number])[0].code == "id_area_not_county"


@pytest.mark.parametrize("area", ["441900", "442000", "460400", "620200", "440304"])
def test_cities_without_counties_are_county_level(area):
    number = make_resident_id(area, BORN, 294)
    assert reason(number) is None
    assert resident_id_errors([number]) == {}


def test_a_city_is_judged_at_the_birth_date():
    # 三亚 had no districts until 2014: its own code was a child's county code before, not after.
    assert reason(make_resident_id("460200", datetime.date(2010, 5, 1), 12)) is None
    assert reason(make_resident_id("460200", datetime.date(2016, 5, 1), 12)) == (
        "id_area_not_county"
    )
    # In the year its districts came, the table cannot tell the day: the child's favour.
    assert is_county_level("460200", 2014)


def test_the_cities_without_counties_today_are_the_four_of_the_standard():
    assert cities_without_counties(datetime.date.today().year) == [
        "441900",
        "442000",
        "460400",
        "620200",
    ]


def test_the_reason_is_given_in_chinese_and_in_english_without_the_birth_digits():
    number = make_resident_id("440300", BORN, 294)
    for language, expected in (
        ("en", "is that of a city that had districts or counties"),
        ("zh-hans", "设区"),
    ):
        with override(language):
            try:
                validate_resident_id(number)
            except ValidationError as error:
                message = error.messages[0]
        assert expected in message and "440300" in message
        assert "2017" not in message
    with override("zh-hans"):
        try:
            validate_resident_id("440000201702202946")
        except ValidationError as error:
            assert "省级" in error.messages[0]
