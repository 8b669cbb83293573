"""Reads of the pages of closed periods and province rules: the periods in force for the nation
and a province (the settings' defaults where a level has set none), the requests each period
holds with the dates they resume, the lifted periods, and a province's rules with their versions.

Who sees what: the ministry sees the nation and every province; everyone else the nation and
their own province (a school its school's), nothing of another province.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import NOTHING, Scope, may, scope_of, today
from xueji.changes.models import (
    OPERATION_CHOICES,
    ChangeKind,
    ChangeRequest,
    ChangeState,
    ClosedPeriod,
    ProvinceRuleVersion,
    operation_label,
)
from xueji.changes.rules import EDITABLE_RULES, NATION, RULE_LABELS, ProvinceRule
from xueji.changes.selectors import QueueRow, _visible_q, _with_current_step, queue_rows
from xueji.changes.windows import (
    Period,
    default_periods,
    period_of_row,
    province_division,
    province_rules,
)
from xueji.geo.models import Division, DivisionLevel
from xueji.schools.models import School

HELD_SHOWN = 50


def own_province(scope: Scope | None) -> str | None:
    """The 2-digit code of the scope's province; None for the nation (and nobody)."""
    if scope is None or scope.level == ScopeLevel.NATION:
        return None
    if scope.level == ScopeLevel.SCHOOL:
        code = School.objects.filter(pk=scope.school_id or 0).values_list("province_id", flat=True)
        found = code.first()
        return found[:2] if found else None
    return (scope.division_code or "")[:2] or None


def province_visible(scope: Scope | None, code: str) -> bool:
    """May the scope see this province's periods and rules (the nation any, others their own)?"""
    if scope is None:
        return False
    if scope.level == ScopeLevel.NATION:
        return True
    return own_province(scope) == (code or "")[:2]


def may_manage_level(scope: Scope | None, action: str, province: str | None) -> bool:
    """May the scope change the periods (or rules) of the nation (province None) or a
    province: the ministry all, a province its own."""
    if not may(scope, action) or scope is None:
        return False
    if scope.level == ScopeLevel.NATION:
        return True
    return (
        scope.level == ScopeLevel.PROVINCE
        and province is not None
        and own_province(scope) == province[:2]
    )


def provinces() -> list[Division]:
    return list(Division.objects.filter(level=DivisionLevel.PROVINCE).order_by("code"))


# ---- held requests -------------------------------------------------------------------------------


def _occurrences(
    period: Period, around: datetime.date
) -> list[tuple[datetime.date, datetime.date]]:
    """The first and last days of the period's occurrences near a day (two years each way)."""
    if not period.yearly:
        assert period.first is not None and period.last is not None
        return [(period.first, period.last)]
    found = []
    for year in range(around.year - 2, around.year + 3):
        occurrence = period.occurrence(_safe_date(year, period.start))
        if occurrence is not None and (period.first is None or occurrence[1] >= period.first):
            found.append((max(occurrence[0], period.first or occurrence[0]), occurrence[1]))
    return found


def _safe_date(year: int, month_day: tuple[int, int]) -> datetime.date:
    try:
        return datetime.date(year, *month_day)
    except ValueError:
        return datetime.date(year, month_day[0], 28)


def held_q(period: Period, operation: str, on: datetime.date) -> Q:
    """Filter on ChangeRequest: the requests the period holds: held, of the kind, of a school
    of its province (either side of a transfer), and held on some day of the period (from the
    day filed to the day before they resume)."""
    if operation not in ChangeKind.values:
        return NOTHING
    q = Q(state=ChangeState.HELD, kind=operation)
    if period.scope != NATION:
        division = province_division(period.scope)
        q &= Q(from_school__province_id=division) | Q(to_school__province_id=division)
    overlap = NOTHING
    for first, last in _occurrences(period, on):
        overlap |= Q(filed_on__lte=last, resumes_on__gt=first)
    return q & overlap


def held_by(
    user: Any, period: Period, operation: str, *, limit: int = HELD_SHOWN
) -> tuple[list[QueueRow], int]:
    """The requests a period holds that the user may see (the most that are listed, and how
    many there are), the soonest to resume first."""
    on = today()
    scope = scope_of(user)
    held: QuerySet[ChangeRequest] = ChangeRequest.objects.filter(
        _visible_q(scope), held_q(period, operation, on)
    )
    listed = list(_with_current_step(held).order_by("resumes_on", "filed_at")[:limit])
    return queue_rows(listed, on, scope), held.count()


# ---- the periods of a level ----------------------------------------------------------------------


@dataclass
class PeriodEntry:
    period: Period
    operation: str
    row: ClosedPeriod | None  # None: a default of the settings
    held: list[QueueRow] = field(default_factory=list)
    held_count: int = 0

    @property
    def operation_label(self) -> Any:
        return operation_label(self.operation)

    @property
    def holds_requests(self) -> bool:
        return self.operation in ChangeKind.values

    @property
    def start_text(self) -> str:
        month, day = self.period.start
        return f"{month:02d}-{day:02d}"

    @property
    def end_text(self) -> str:
        month, day = self.period.end
        return f"{month:02d}-{day:02d}"

    @property
    def closed_today(self) -> bool:
        return self.period.contains(today())


@dataclass
class LevelPeriods:
    """The periods of the nation (code "nation") or of one province."""

    code: str
    division: Division | None
    in_force: list[PeriodEntry]
    lifted: list[ClosedPeriod]
    # Operations whose periods are the settings' defaults (the level has set none).
    on_defaults: list[tuple[str, Any]]
    may_manage: bool

    @property
    def province_code(self) -> str:
        return "" if self.code == NATION else self.code


def level_periods(user: Any, province: str | None, *, with_held: bool = True) -> LevelPeriods:
    """The periods in force and lifted of the nation (province None) or a province, each with
    the requests it holds that the user may see."""
    scope = scope_of(user)
    division = (
        None
        if province is None
        else Division.objects.filter(pk=province_division(province)).first()
    )
    rows = list(
        ClosedPeriod.objects.filter(division=division)
        .select_related("created_by", "changed_by", "lifted_by")
        .order_by("operation", "starts_on", "pk")
    )
    managed = {row.operation for row in rows}
    entries: list[PeriodEntry] = []
    on_defaults = []
    for operation, label in OPERATION_CHOICES:
        if operation in managed:
            entries.extend(
                PeriodEntry(period_of_row(row), operation, row)
                for row in rows
                if row.operation == operation and row.lifted_at is None
            )
            continue
        defaults = default_periods(operation, province[:2] if province else None)
        if defaults:
            on_defaults.append((operation, label))
        entries.extend(PeriodEntry(period, operation, None) for period in defaults)
    if with_held:
        for entry in entries:
            entry.held, entry.held_count = held_by(user, entry.period, entry.operation)
    return LevelPeriods(
        code=NATION if province is None else province[:2],
        division=division,
        in_force=entries,
        lifted=[row for row in rows if row.lifted_at is not None],
        on_defaults=on_defaults,
        may_manage=may_manage_level(scope, Action.CHANGE_WINDOW_MANAGE, province),
    )


@dataclass
class PeriodsPage:
    nation: LevelPeriods
    province: LevelPeriods | None
    # For the ministry: the provinces to choose from, and those with periods of their own.
    provinces: list[Division]
    provinces_with_rows: list[str]
    may_manage_any: bool


def periods_page(user: Any, province: str | None = None) -> PeriodsPage | None:
    """The page of closed periods: the nation's, and the user's province (the ministry: the
    province it chose). None for a user who may not see them, or a province outside."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CHANGE_WINDOW_VIEW):
        return None
    if scope.level == ScopeLevel.NATION:
        chosen = (province or "")[:2] or None
        if (
            chosen is not None
            and not Division.objects.filter(
                pk=province_division(chosen), level=DivisionLevel.PROVINCE
            ).exists()
        ):
            return None
    else:
        chosen = own_province(scope)
        if province and chosen != province[:2]:
            return None
    is_nation = scope.level == ScopeLevel.NATION
    return PeriodsPage(
        nation=level_periods(user, None),
        province=None if chosen is None else level_periods(user, chosen),
        provinces=provinces() if is_nation else [],
        provinces_with_rows=sorted(
            {
                code[:2]
                for code in ClosedPeriod.objects.filter(division__isnull=False)
                .values_list("division_id", flat=True)
                .distinct()
            }
        )
        if is_nation
        else [],
        may_manage_any=may(scope, Action.CHANGE_WINDOW_MANAGE)
        and scope.level in (ScopeLevel.NATION, ScopeLevel.PROVINCE),
    )


@dataclass
class PeriodDetail:
    row: ClosedPeriod
    entry: PeriodEntry
    may_manage: bool


def period_detail(user: Any, period_id: int) -> PeriodDetail | None:
    """One period (in force or lifted) of the nation or of a province the user may see, with
    the requests it holds."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CHANGE_WINDOW_VIEW):
        return None
    row = (
        ClosedPeriod.objects.select_related("division", "created_by", "changed_by", "lifted_by")
        .filter(pk=period_id)
        .first()
    )
    if row is None or (row.division_id and not province_visible(scope, row.division_id)):
        return None
    entry = PeriodEntry(period_of_row(row), row.operation, row)
    if row.lifted_at is None:
        entry.held, entry.held_count = held_by(user, entry.period, row.operation, limit=500)
    return PeriodDetail(
        row=row,
        entry=entry,
        may_manage=row.lifted_at is None
        and may_manage_level(scope, Action.CHANGE_WINDOW_MANAGE, row.division_id),
    )


# ---- province rules ------------------------------------------------------------------------------


@dataclass
class RuleValue:
    name: str
    label: Any
    value: bool


@dataclass
class ProvinceRulesView:
    province: Division
    values: list[RuleValue]
    versions: list[ProvinceRuleVersion]
    may_manage: bool

    @property
    def from_settings(self) -> bool:
        return not self.versions

    @property
    def current(self) -> ProvinceRuleVersion | None:
        return self.versions[0] if self.versions else None


def rule_values_of(rule: ProvinceRule) -> list[RuleValue]:
    return [
        RuleValue(name, RULE_LABELS[name], bool(getattr(rule, name))) for name in EDITABLE_RULES
    ]


def province_rules_of(user: Any, province_code: str) -> ProvinceRulesView | None:
    """A province's rules in force and their versions, newest first; None outside the user's
    sight."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.PROVINCE_RULES_VIEW):
        return None
    code = (province_code or "")[:2]
    province = (
        Division.objects.filter(pk=province_division(code), level=DivisionLevel.PROVINCE).first()
        if code.isdigit() and len(code) == 2
        else None
    )
    if province is None or not province_visible(scope, code):
        return None
    versions = list(
        ProvinceRuleVersion.objects.filter(province=province)
        .select_related("created_by")
        .order_by("-version")
    )
    for version in versions:
        version.values = [  # type: ignore[attr-defined]
            RuleValue(name, RULE_LABELS[name], bool(version.rules.get(name, False)))
            for name in EDITABLE_RULES
        ]
    return ProvinceRulesView(
        province=province,
        values=rule_values_of(province_rules(code)),
        versions=versions,
        may_manage=may_manage_level(scope, Action.PROVINCE_RULES_MANAGE, code),
    )


@dataclass
class ProvinceRulesRow:
    province: Division
    values: list[RuleValue]
    version: int | None


def province_rules_list(user: Any) -> list[ProvinceRulesRow] | None:
    """Every province's rules in force (the ministry), or the own province's (everyone else)."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.PROVINCE_RULES_VIEW):
        return None
    if scope.level == ScopeLevel.NATION:
        shown = provinces()
    else:
        code = own_province(scope)
        shown = [] if code is None else list(Division.objects.filter(pk=province_division(code)))
    latest: dict[str, int] = defaultdict(int)
    for province_id, version in ProvinceRuleVersion.objects.filter(province__in=shown).values_list(
        "province_id", "version"
    ):
        latest[province_id] = max(latest[province_id], version)
    return [
        ProvinceRulesRow(
            province=province,
            values=rule_values_of(province_rules(province.code)),
            version=latest.get(province.code),
        )
        for province in shown
    ]
