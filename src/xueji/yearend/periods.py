"""The promotion period (升级毕业时间): when in the year promotion and graduation are done, and
whether a run planned or started today lies outside it (issue 20, item 11: a whole school's
graduation could be planned and started in December with no warning).

Outside the period a run is not refused, it needs an explicit confirmation that names the
period and says why (the page's check box, the API's `confirm_outside_period: true`, the
command's --confirm-outside-period): a year end done late, or a school's graduation done early
on the county's order, are real. A closed period of the operation "yearend" (the ministry's or
a province's, xueji.changes.windows) is different: no run starts in it at all.

Whose period: a province's own (a row it set, or its entry in the settings) for its schools,
else the nation's (its row, else the settings' "nation", else DEFAULT_PROMOTION_PERIODS). A
national run is outside when today is outside the nation's period or the own period of any
province.

The data is the year end's own (xueji.yearend.models.PromotionPeriod): only the year end reads
it. The yearly period type and the hard closures are the changes' (xueji.changes.windows), which
the year end, a sibling of changes in the workflows' layer, imports (changes imports no year
end: the import-linter contract "no-cycles").

    XUEJI_YEAREND_PROMOTION_PERIODS = {
        "nation": {"from": "06-01", "to": "09-30"},
        "44": {"from": "07-01", "to": "08-31"}}
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import Scope, may, scope_of
from xueji.changes.windows import Period
from xueji.geo.models import Division, DivisionLevel
from xueji.schools.models import School
from xueji.yearend.models import PERIOD_NATION, PromotionPeriod
from xueji.yearend.selectors import Target

# Without settings or rows: from June (senior high graduates after 高考) to the end of September
# (the intake's deadline, XUEJI_INTAKE_DEADLINE): the summer between two school years, when the
# ministry's batch promotion (around 10 August, DOMAIN §6) falls.
DEFAULT_PROMOTION_PERIODS: dict[str, dict[str, str]] = {
    PERIOD_NATION: {"from": "06-01", "to": "09-30"},
}

_SCOPE = re.compile(r"^(nation|[0-9]{2})$")
_MONTH_DAY = re.compile(r"^([0-9]{2})-([0-9]{2})$")


def month_day(text: str) -> tuple[int, int] | None:
    """(month, day) of "MM-DD", None if it is not a day of the year (02-29 is)."""
    match = _MONTH_DAY.match((text or "").strip())
    if match is None:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    try:
        datetime.date(2024, month, day)  # a leap year
    except ValueError:
        return None
    return month, day


@dataclass(frozen=True)
class PeriodInForce:
    """A level's promotion period: whose ("nation" or a province's 2 digits), the days, and
    the row that set it (None: the settings, or the default)."""

    scope: str
    period: Period
    row: PromotionPeriod | None = None

    @property
    def first(self) -> str:
        month, day = self.period.start
        return f"{month:02d}-{day:02d}"

    @property
    def last(self) -> str:
        month, day = self.period.end
        return f"{month:02d}-{day:02d}"

    def contains(self, day: datetime.date) -> bool:
        return self.period.contains(day)

    def where(self) -> str:
        """Whose period, for a message: "the nation" or the province's name."""
        if self.scope == PERIOD_NATION:
            return gettext("the nation")
        division = Division.objects.filter(pk=self.scope + "0000").first()
        return division.name if division else self.scope

    def label(self) -> str:
        """Whose and when: 全国：6月1日至9月30日 (the nation: 6/1 to 9/30)."""
        return gettext("%(where)s: %(dates)s") % {"where": self.where(), "dates": self.dates()}

    def dates(self) -> str:
        """The days of the period as people write them: 6月1日至9月30日 (June 1 to September 30)."""
        (start_month, start_day), (end_month, end_day) = self.period.start, self.period.end
        return gettext("%(m1)d/%(d1)d to %(m2)d/%(d2)d") % {
            "m1": start_month,
            "d1": start_day,
            "m2": end_month,
            "d2": end_day,
        }


def periods_text(periods: list[PeriodInForce]) -> str:
    """Several periods in one phrase (a refusal, a warning)."""
    return gettext("; ").join(period.label() for period in periods)


def _parsed(scope: str, entry: Any) -> PeriodInForce:
    """One level's entry of the settings, read strictly: a wrong one is named."""
    if not _SCOPE.match(scope):
        raise ValueError(
            f"XUEJI_YEAREND_PROMOTION_PERIODS: {scope!r} is neither 'nation' nor a province's "
            "2-digit code"
        )
    start = month_day(str(entry.get("from", ""))) if isinstance(entry, Mapping) else None
    end = month_day(str(entry.get("to", ""))) if isinstance(entry, Mapping) else None
    if start is None or end is None or set(entry) != {"from", "to"}:
        raise ValueError(
            f"XUEJI_YEAREND_PROMOTION_PERIODS[{scope!r}]: expected {{'from': 'MM-DD', "
            f"'to': 'MM-DD'}} with days of the year, got {entry!r}"
        )
    return PeriodInForce(scope, Period(start, end, scope))


def _of_row(row: PromotionPeriod) -> PeriodInForce:
    start, end = (row.start_month, row.start_day), (row.end_month, row.end_day)
    return PeriodInForce(row.scope, Period(start, end, row.scope), row)


def periods_in_force() -> dict[str, PeriodInForce]:
    """Every level's own period: the rows set on the page over the settings' (the nation's
    falling back on the default). The nation always has one."""
    raw: Mapping[str, Any] = getattr(
        settings, "XUEJI_YEAREND_PROMOTION_PERIODS", DEFAULT_PROMOTION_PERIODS
    )
    found = {str(scope): _parsed(str(scope), entry) for scope, entry in raw.items()}
    found.setdefault(
        PERIOD_NATION, _parsed(PERIOD_NATION, DEFAULT_PROMOTION_PERIODS[PERIOD_NATION])
    )
    found.update({row.scope: _of_row(row) for row in PromotionPeriod.objects.all()})
    return found


def period_of_province(
    province_code: str, periods: Mapping[str, PeriodInForce] | None = None
) -> PeriodInForce:
    """The period in force for a province's schools (a 2- or 6-digit code): its own, or the
    nation's."""
    periods = periods_in_force() if periods is None else periods
    return periods.get(province_code[:2]) or periods[PERIOD_NATION]


def periods_of_target(target: Target) -> list[PeriodInForce]:
    """The periods a run over `target` must lie in: its province's, or for a national run the
    nation's and every province's own."""
    periods = periods_in_force()
    if target.level == "nation":
        return [periods[PERIOD_NATION]] + [
            period for scope, period in sorted(periods.items()) if scope != PERIOD_NATION
        ]
    province = target.school.province_id if target.school is not None else target.code
    return [period_of_province(province, periods)]


def outside_periods(target: Target, day: datetime.date) -> list[PeriodInForce]:
    """The periods of `target` that do not hold `day` (empty: the run is in its period)."""
    return [period for period in periods_of_target(target) if not period.contains(day)]


# ---- the page of the promotion periods ----------------------------------------------------------


@dataclass(frozen=True)
class PeriodsPage:
    """What a user sees of the promotion periods: today, the period in force for the user's own
    place (the nation's for the ministry), every level's own period in the user's view (the
    nation's, then the provinces': all of them for the ministry, the own province's for anyone
    else), and the levels the user may set, as (value, label)."""

    today: datetime.date
    mine: PeriodInForce
    levels: list[PeriodInForce]
    settable: list[tuple[str, str]]

    @property
    def inside(self) -> bool:
        return self.mine.contains(self.today)


def _own_province(scope: Scope) -> str | None:
    if scope.level == ScopeLevel.NATION:
        return None
    if scope.school_id is not None:
        return (
            School.objects.filter(pk=scope.school_id).values_list("province_id", flat=True).first()
        )
    return (scope.division_code or "")[:2] or None


def periods_page(user: Any) -> PeriodsPage | None:
    """The page's content for a user who may see the periods (None otherwise)."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CHANGE_WINDOW_VIEW):
        return None
    periods = periods_in_force()
    own = _own_province(scope)
    mine = periods[PERIOD_NATION] if own is None else period_of_province(own, periods)
    provinces = {
        code[:2]: name
        for code, name in Division.objects.filter(level=DivisionLevel.PROVINCE)
        .order_by("code")
        .values_list("code", "name")
    }
    levels = [periods[PERIOD_NATION]] + [
        period
        for scope_code, period in sorted(periods.items())
        if scope_code != PERIOD_NATION and (own is None or scope_code == own[:2])
    ]
    settable: list[tuple[str, str]] = []
    if may(scope, Action.CHANGE_WINDOW_MANAGE):
        if scope.level == ScopeLevel.NATION:
            settable = [(PERIOD_NATION, gettext("The nation")), *sorted(provinces.items())]
        elif scope.level == ScopeLevel.PROVINCE and own is not None:
            settable = [(own[:2], provinces.get(own[:2], own[:2]))]
    return PeriodsPage(today=timezone.localdate(), mine=mine, levels=levels, settable=settable)
