"""The current GB/T 2260 divisions, read from python-stdnum's maintained table (cn/loc).

The table lists every code with the years it was in use ("[1990-]福田区"); a code is current when
its last period has no end. Codes ending in 00 under a province are its cities (地市); the rest
are counties (区县), except the placeholders 市辖区 / 县 / 市区 that never name a real place. A
city with no county under it (不设区的地级市: 东莞, 中山, 儋州, 嘉峪关) is county level itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from stdnum import numdb

_PERIOD = re.compile(r"^\[(\d*)-(\d*)\](.*)$")
PLACEHOLDER_NAMES = {"市辖区", "县", "市区", "郊区", "矿区"}
DIRECTLY_ADMINISTERED = "省直辖县级行政区划"


@dataclass(frozen=True)
class DivisionRow:
    code: str
    name: str
    level: str
    parent_code: str | None
    county_level: bool = False


def current_name(names: str) -> str | None:
    """The name of a code's open-ended period, or None if the code is no longer in use."""
    current = None
    for part in names.split(","):
        match = _PERIOD.match(part)
        if match is None:
            current = part
        elif not match.group(2):
            current = match.group(3)
    return current


def current_divisions() -> Iterator[DivisionRow]:
    """Provinces, then cities, then counties: every parent comes before its children."""
    database = numdb.get("cn/loc")
    cities: list[DivisionRow] = []
    counties: list[DivisionRow] = []
    for _length, low, _high, props, children in database.prefixes:
        province_name = props.get("province")
        if not province_name:
            continue
        province_code = f"{low}0000"
        yield DivisionRow(province_code, province_name, "province", None)
        city_codes: set[str] = set()
        pending: list[tuple[str, str]] = []
        for _l, sub, _h, sub_props, _c in children:
            name = current_name(sub_props.get("county", ""))
            if name is None or sub == "0000":
                continue
            code = f"{low}{sub}"
            if sub.endswith("00"):
                if name in PLACEHOLDER_NAMES:
                    name = province_name
                cities.append(DivisionRow(code, name, "city", province_code))
                city_codes.add(code)
            elif name not in PLACEHOLDER_NAMES:
                pending.append((code, name))
        for code, name in pending:
            city_code = code[:4] + "00"
            if city_code not in city_codes:
                # Counties governed directly by the province hang under a grouping code.
                cities.append(DivisionRow(city_code, DIRECTLY_ADMINISTERED, "city", province_code))
                city_codes.add(city_code)
            counties.append(DivisionRow(code, name, "county", city_code, county_level=True))
    with_counties = {county.parent_code for county in counties}
    for city in cities:
        yield replace(city, county_level=city.code not in with_counties)
    yield from counties
