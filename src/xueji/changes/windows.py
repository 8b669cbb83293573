"""Time for changes of status: the Chinese working-day calendar (deadlines of 10 working days)
and the closed periods (windows) in which new requests of a kind are held.

Closed periods come from two places, both read here: the settings (defaults of the nation and of
each province, XUEJI_CHANGE_CLOSED_PERIODS and XUEJI_PROVINCE_RULES[...]["closed"]) and the
ChangeWindow rows the ministry and provinces set at run time.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import chinese_calendar
from django.conf import settings

from xueji.changes.models import ChangeWindow
from xueji.changes.rules import (
    NATION,
    ProvinceRule,
    ProvinceRules,
    closed_periods_validate,
    province_rules_validate,
)

# Steps of an approval chain are due within 10 working days (DOMAIN §5).
DEADLINE_WORKING_DAYS = 10

# By default the ministry holds new transfers from 15 July to 14 August (the article's example).
DEFAULT_CLOSED_PERIODS: dict[str, list[dict[str, str]]] = {
    NATION: [{"kind": "transfer", "from": "07-15", "to": "08-14"}],
}


def is_working_day(day: datetime.date) -> bool:
    """A working day in mainland China: public holidays off, the make-up weekend days (调休)
    on. The calendar's data covers the years the State Council has announced; for a year
    outside it we fall back to Monday to Friday rather than fail (holidays then count as
    working days until the package is updated)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: datetime.date, count: int) -> datetime.date:
    """The `count`-th working day after `start` (the day a step became current)."""
    day = start
    remaining = count
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


@dataclass(frozen=True)
class Period:
    """A closed period repeated every year, both ends included; it may span the new year."""

    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]
    scope: str = NATION  # "nation" or a province code (2 digits)

    def contains(self, day: datetime.date) -> bool:
        point = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= point <= self.end
        return point >= self.start or point <= self.end


def closed_on(day: datetime.date, periods: Iterable[Period]) -> bool:
    """Is any of the periods closed on that day?"""
    return any(period.contains(day) for period in periods)


def reopens_on(day: datetime.date, periods: Sequence[Period]) -> datetime.date | None:
    """The first day from `day` on which no period is closed; None if open on `day`. A set of
    periods closing the whole year never reopens: then a year later is returned, so that the
    request waits visibly rather than failing."""
    if not closed_on(day, periods):
        return None
    probe = day
    for _ in range(367):
        probe += datetime.timedelta(days=1)
        if not closed_on(probe, periods):
            return probe
    return day + datetime.timedelta(days=366)


def configured_rules() -> ProvinceRules:
    """The provinces' rules of the settings (XUEJI_PROVINCE_RULES), typed."""
    return province_rules_validate(getattr(settings, "XUEJI_PROVINCE_RULES", {}))


def province_rules(province_code: str) -> ProvinceRule:
    """The rules of a province (2-digit or 6-digit code), the defaults where not configured."""
    return configured_rules().of(province_code)


def _configured_periods(kind: str, province_codes: Iterable[str]) -> list[Period]:
    national = closed_periods_validate(
        getattr(settings, "XUEJI_CHANGE_CLOSED_PERIODS", DEFAULT_CLOSED_PERIODS)
    )
    found = [Period(item.start, item.end, NATION) for item in national if item.kind == kind]
    rules = configured_rules()
    for code in sorted({code[:2] for code in province_codes}):
        for item in rules.of(code).closed:
            if item.kind == kind:
                found.append(Period(item.start, item.end, code))
    return found


def periods_for(kind: str, province_codes: Iterable[str]) -> list[Period]:
    """Every closed period of a kind of change that applies to the given provinces (for a
    transfer: the sending and the receiving province), national ones included."""
    codes = list(province_codes)
    found = _configured_periods(kind, codes)
    rows = ChangeWindow.objects.filter(kind=kind).filter(
        division__isnull=True
    ) | ChangeWindow.objects.filter(kind=kind, division_id__in=[c[:2] + "0000" for c in codes])
    for row in rows:
        found.append(
            Period(
                (row.start_month, row.start_day),
                (row.end_month, row.end_day),
                row.division_id[:2] if row.division_id else NATION,
            )
        )
    return found
