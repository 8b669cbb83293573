"""GB/T 2260 area codes through the years, from python-stdnum's table (cn/loc), for the ID check.

GB 11643 puts in an ID number the code of the county-level division (县级行政区) of the holder's
household. A province's code (xx0000) is never one. A city's code (xxxx00) is one only for a
prefecture-level city without districts or counties (不设区的地级市: 东莞 441900, 中山 442000,
儋州 460400, 嘉峪关 620200 today; 三亚 460200 until its districts came in 2014), which is itself
the county-level unit. The table gives years, not days: in the year a city gained or lost its
counties both forms are accepted, the child's favour where the table cannot tell.
"""

from __future__ import annotations

import re
from functools import cache

from stdnum import numdb

_PERIOD = re.compile(r"^\[(\d*)-(\d*)\](.*)$")
# A code that groups a city's districts and names no place: never a county of its own. (郊区,
# 矿区 and 市区 are real districts, whose numbers were issued.)
GROUPING_NAMES = frozenset({"市辖区"})
BEFORE_THE_TABLE = 0
STILL_IN_USE = 9999

Span = tuple[int, int, str]  # first year, last year (both included), name


@cache
def _table() -> dict[str, tuple[Span, ...]]:
    """Every code below a province's own, with the spans of years it was in use."""
    table: dict[str, tuple[Span, ...]] = {}
    for _length, low, _high, _props, children in numdb.get("cn/loc").prefixes:
        for _l, sub, _h, sub_props, _c in children:
            spans: list[Span] = []
            for part in sub_props.get("county", "").split(","):
                match = _PERIOD.match(part)
                if match is None:
                    spans.append((BEFORE_THE_TABLE, STILL_IN_USE, part))
                else:
                    spans.append(
                        (
                            int(match.group(1) or BEFORE_THE_TABLE),
                            int(match.group(2) or STILL_IN_USE),
                            match.group(3),
                        )
                    )
            table[f"{low}{sub}"] = tuple(spans)
    return table


def _counties_under(city_code: str) -> list[tuple[str, tuple[Span, ...]]]:
    return [
        (code, spans)
        for code, spans in _table().items()
        if code[:4] == city_code[:4] and code != city_code
    ]


def is_province_code(code: str) -> bool:
    return code.endswith("0000")


def is_city_code(code: str) -> bool:
    return code.endswith("00") and not is_province_code(code)


@cache
def city_had_counties(city_code: str, year: int) -> bool:
    """Did a county (a district, a county, a county-level city) lie under this city code for
    the whole of `year`? In a year when the first came or the last went, it did not."""
    for _code, spans in _counties_under(city_code):
        for first, last, name in spans:
            if name in GROUPING_NAMES:
                continue
            if first < year < last or (first == BEFORE_THE_TABLE and year < last):
                return True
    return False


def is_county_level(code: str, year: int) -> bool:
    """May `code` stand in an ID number of someone born in `year`? A county's code may (its own
    years of use are checked apart); a province's never; a city's only while it had no
    counties under it (a 不设区的地级市)."""
    if is_province_code(code):
        return False
    if is_city_code(code):
        return not city_had_counties(code, year)
    return True


def cities_without_counties(year: int) -> list[str]:
    """The city codes in use in `year` that were county-level then (for the divisions' check)."""
    found = []
    for code, spans in _table().items():
        if not is_city_code(code):
            continue
        if any(first <= year <= last for first, last, _name in spans) and not city_had_counties(
            code, year
        ):
            found.append(code)
    return sorted(found)
