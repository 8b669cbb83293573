"""Time for changes of status and the other operations a closed period stops: the Chinese
working-day calendar (deadlines of 10 working days), the closed periods in force and the rules
of each province.

Closed periods and province rules are data (xueji.changes.models: ClosedPeriod, one row per
period; ProvinceRuleVersion, one row per version of a province's rules), set on pages by the
ministry and each province. The settings (XUEJI_CHANGE_CLOSED_PERIODS for the nation,
XUEJI_PROVINCE_RULES for each province, rules and "closed" periods) are defaults only: a level
(the nation, or one province) that has no row for an operation has the settings' periods of that
operation; a province without a version of its rules has the settings' rules.

The year end (xueji.yearend) and the class teachers' verification (xueji.verification) read
their closed periods here too (`closure_on`, `closure_between`). They sit beside changes in the
same layer, whose siblings may import one another as long as no two do both ways (the
import-linter contract "no-cycles"): changes imports neither of them, so the model and its
reading stay in one place instead of a second copy lower down.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import chinese_calendar
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext

from xueji.changes.models import ClosedPeriod, ProvinceRuleVersion
from xueji.changes.rules import (
    NATION,
    ProvinceRule,
    ProvinceRules,
    closed_periods_validate,
    province_rules_validate,
)
from xueji.geo.models import Division

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


def shift_years(day: datetime.date, years: int) -> datetime.date:
    """The same month and day `years` later; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Period:
    """A closed period, both ends included. Yearly (the settings' periods, and rows set "every
    year"): from `start` to `end` (month, day) every year, from `first` on when given; it may
    span the new year. Dated (a row set once): from `first` to `last`."""

    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]
    scope: str = NATION  # "nation" or a province code (2 digits)
    yearly: bool = True
    first: datetime.date | None = None
    last: datetime.date | None = None
    row_id: int | None = None  # the ClosedPeriod row; None for a default of the settings

    def contains(self, day: datetime.date) -> bool:
        if self.first is not None and day < self.first:
            return False
        if not self.yearly:
            return self.last is not None and day <= self.last
        point = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= point <= self.end
        return point >= self.start or point <= self.end

    def occurrence(self, day: datetime.date) -> tuple[datetime.date, datetime.date] | None:
        """The first and last day of the occurrence holding `day`, None if it is open then."""
        if not self.contains(day):
            return None
        if not self.yearly:
            assert self.first is not None and self.last is not None
            return self.first, self.last
        year = day.year
        if self.start > self.end and (day.month, day.day) <= self.end:
            year -= 1  # in the part after the new year: it began the year before
        first = _month_day(year, self.start)
        last = _month_day(year + (1 if self.start > self.end else 0), self.end)
        return first, last


def _month_day(year: int, month_day: tuple[int, int]) -> datetime.date:
    month, day = month_day
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return datetime.date(year, month, 28)


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


# ---- the defaults of the settings --------------------------------------------------------------


def configured_rules() -> ProvinceRules:
    """The provinces' rules of the settings (XUEJI_PROVINCE_RULES), typed: the defaults."""
    return province_rules_validate(getattr(settings, "XUEJI_PROVINCE_RULES", {}))


def default_periods(operation: str, province: str | None) -> list[Period]:
    """The settings' periods of an operation for the nation (province None) or a province."""
    if province is None:
        national = closed_periods_validate(
            getattr(settings, "XUEJI_CHANGE_CLOSED_PERIODS", DEFAULT_CLOSED_PERIODS)
        )
        return [Period(p.start, p.end, NATION) for p in national if p.kind == operation]
    return [
        Period(p.start, p.end, province)
        for p in configured_rules().of(province).closed
        if p.kind == operation
    ]


# ---- what is in force --------------------------------------------------------------------------


def period_of_row(row: ClosedPeriod) -> Period:
    scope = row.division_id[:2] if row.division_id else NATION
    start = (row.starts_on.month, row.starts_on.day)
    end = (row.ends_on.month, row.ends_on.day)
    if row.every_year:
        return Period(start, end, scope, yearly=True, first=row.starts_on, row_id=row.pk)
    return Period(
        start, end, scope, yearly=False, first=row.starts_on, last=row.ends_on, row_id=row.pk
    )


def province_division(code: str) -> str:
    """A province's division code (440000) from any code of it (44, 440304)."""
    return code[:2] + "0000"


def periods_for(kind: str, province_codes: Iterable[str] | None) -> list[Period]:
    """Every closed period of an operation (a kind of change, "yearend", "verification") that
    applies to the given provinces (for a transfer: the sending and the receiving province),
    the nation's included; None: every province's. A level with a row for the operation (a
    lifted one too) has its rows; one without has the settings' periods."""
    provinces = None if province_codes is None else sorted({c[:2] for c in province_codes if c})
    rows = ClosedPeriod.objects.filter(operation=kind)
    if provinces is not None:
        rows = rows.filter(
            Q(division__isnull=True) | Q(division_id__in=[province_division(p) for p in provinces])
        )
    managed: set[str] = set()
    found: list[Period] = []
    for row in rows.order_by("starts_on", "pk"):
        managed.add(row.division_id[:2] if row.division_id else NATION)
        if row.lifted_at is None:
            found.append(period_of_row(row))
    if NATION not in managed:
        found = default_periods(kind, None) + found
    if provinces is None:
        provinces = sorted(configured_rules().provinces)
    for province in provinces:
        if province not in managed:
            found.extend(default_periods(kind, province))
    return found


def province_rules(province_code: str) -> ProvinceRule:
    """The rules in force in a province (2-digit or 6-digit code): its latest version, or the
    settings' rules where it has none."""
    latest = (
        ProvinceRuleVersion.objects.filter(province_id=province_division(province_code))
        .order_by("-version")
        .first()
    )
    if latest is None:
        return configured_rules().of(province_code)
    rules = province_rules_validate({province_code[:2]: latest.rules}).of(province_code)
    return ProvinceRule(
        no_transfer_in_graduating_grade=rules.no_transfer_in_graduating_grade,
        same_grade_only=rules.same_grade_only,
    )


@dataclass(frozen=True)
class Closure:
    """An operation closed on a day: the period closing it (its occurrence, first to last day)
    and the first day it is open again."""

    period: Period
    first: datetime.date
    last: datetime.date
    reopens_on: datetime.date


def closure_on(
    operation: str, province_codes: Iterable[str] | None, on: datetime.date
) -> Closure | None:
    """Is the operation closed on `on` for these provinces (None: any province)? The period
    closing it and the day it reopens; None when open."""
    periods = periods_for(operation, province_codes)
    reopening = reopens_on(on, periods)
    if reopening is None:
        return None
    period = next(p for p in periods if p.contains(on))
    occurrence = period.occurrence(on)
    assert occurrence is not None
    return Closure(period, occurrence[0], occurrence[1], reopening)


def closure_between(
    operation: str, province_codes: Iterable[str] | None, first: datetime.date, last: datetime.date
) -> Closure | None:
    """The first closure of the operation on a day from `first` to `last`, None if every day
    is open (for a verification window's days)."""
    periods = periods_for(operation, province_codes)
    day = first
    while day <= last:
        if closed_on(day, periods):
            return closure_on(operation, province_codes, day)
        day += datetime.timedelta(days=1)
    return None


def closure_where(closure: Closure) -> str:
    """Whose period closes: "the whole nation" or the province's name (for a refusal)."""
    if closure.period.scope == NATION:
        return gettext("the whole nation")
    division = Division.objects.filter(pk=province_division(closure.period.scope)).first()
    return division.name if division else closure.period.scope
