"""API of closed periods and province rules, as their pages (xueji.changes.views_rules): everyone
with a role in the registry reads the nation's and their own province's (the ministry every
province's), each period with the requests it holds and the dates they resume; the ministry
(nation bureau approver) sets the nation's and any province's, a province bureau approver its
own. Each change is audited by its service; province rules are versions with who, when and why.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.changes.api import ChangeSummaryOut, _row
from xueji.changes.models import OPERATIONS, ClosedPeriod
from xueji.changes.rules import EDITABLE_RULES
from xueji.changes.selectors_rules import (
    HELD_SHOWN,
    LevelPeriods,
    PeriodEntry,
    period_detail,
    periods_page,
    province_rules_list,
    province_rules_of,
)
from xueji.changes.services import (
    closed_period_add,
    closed_period_defaults_adopt,
    closed_period_edit,
    closed_period_lift,
    province_rules_save,
)
from xueji.changes.windows import period_of_row
from xueji.core.api import COMMON_ERRORS, DatabaseId, ErrorOut, IsoDate, caller
from xueji.core.errors import NotFound

router = Router(tags=["closed periods and province rules"])

ERRORS: dict[int, Any] = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}

ProvinceCode = Annotated[
    str, Field(pattern=r"^[0-9]{2}$", description="A province's two digits (广东 44)")
]
Operation = Annotated[
    str,
    Field(
        pattern="^(" + "|".join(OPERATIONS) + ")$",
        description="transfer, suspend, …: a kind of change; yearend: promotion and "
        "graduation; verification: class teachers' verification",
    ),
]


def _no_such_period() -> NotFound:
    return NotFound("period_not_found", _("No such closed period."))


def _no_such_province() -> NotFound:
    return NotFound("province_not_found", _("No such province in your area."))


# ---- output ------------------------------------------------------------------------------------


class PeriodOut(Schema):
    id: int | None = Field(description="None for a default of the settings (not yet taken over)")
    operation: str
    scope: str = Field(description='"nation" or a province\'s two digits')
    starts_on: datetime.date | None = Field(description="Of a period set on a page or the API")
    ends_on: datetime.date | None
    every_year: bool
    yearly_from: str = Field(description="MM-DD")
    yearly_to: str = Field(description="MM-DD")
    note: str
    from_settings: bool
    closed_today: bool
    lifted_at: datetime.datetime | None
    lift_reason: str
    held_count: int = Field(description="Requests it holds that you may see")
    held: list[ChangeSummaryOut] = Field(
        description=f"The soonest to resume first (at most {HELD_SHOWN}; 500 for one period)"
    )


class LevelOut(Schema):
    scope: str = Field(description='"nation" or a province\'s two digits')
    name: str
    may_manage: bool
    periods: list[PeriodOut]
    lifted: list[PeriodOut]
    on_defaults: list[str] = Field(description="Operations whose periods are the settings'")


class PeriodsOut(Schema):
    nation: LevelOut
    province: LevelOut | None


class PeriodDetailOut(PeriodOut):
    may_manage: bool


class RulesRowOut(Schema):
    province_code: str
    province_name: str
    version: int | None = Field(description="None: the settings' rules, no version set yet")
    rules: dict[str, bool]


class RuleVersionOut(Schema):
    version: int
    rules: dict[str, bool]
    reason: str
    created_by: str
    created_at: datetime.datetime


class ProvinceRulesOut(Schema):
    province_code: str
    province_name: str
    rules: dict[str, bool] = Field(description="In force")
    versions: list[RuleVersionOut] = Field(description="Newest first")
    may_manage: bool


def _period(entry: PeriodEntry) -> dict[str, Any]:
    row = entry.row
    return {
        "id": None if row is None else row.pk,
        "operation": entry.operation,
        "scope": entry.period.scope,
        "starts_on": None if row is None else row.starts_on,
        "ends_on": None if row is None else row.ends_on,
        "every_year": entry.period.yearly,
        "yearly_from": entry.start_text,
        "yearly_to": entry.end_text,
        "note": "" if row is None else row.note,
        "from_settings": row is None or row.from_settings,
        "closed_today": entry.closed_today,
        "lifted_at": None if row is None else row.lifted_at,
        "lift_reason": "" if row is None else row.lift_reason,
        "held_count": entry.held_count,
        "held": [_row(held) for held in entry.held],
    }


def _lifted(row: ClosedPeriod) -> dict[str, Any]:
    return _period(PeriodEntry(period_of_row(row), row.operation, row))


def _level(level: LevelPeriods) -> dict[str, Any]:
    return {
        "scope": level.code,
        "name": "全国" if level.division is None else level.division.name,
        "may_manage": level.may_manage,
        "periods": [_period(entry) for entry in level.in_force],
        "lifted": [_lifted(row) for row in level.lifted],
        "on_defaults": [operation for operation, _label in level.on_defaults],
    }


def _detail(request: HttpRequest, period_id: int) -> dict[str, Any]:
    found = period_detail(caller(request), period_id)
    if found is None:
        raise _no_such_period()
    return {**_period(found.entry), "may_manage": found.may_manage}


# ---- input -------------------------------------------------------------------------------------


class PeriodsParams(Schema):
    province: ProvinceCode | None = Field(
        None, description="The ministry: which province to show beside the nation"
    )


class PeriodIn(Schema):
    operation: Operation
    starts_on: IsoDate = Field(description="The first day closed")
    ends_on: IsoDate = Field(description="The last day closed")
    every_year: bool = False
    note: str = Field("", max_length=200)
    province: ProvinceCode | None = Field(
        None,
        description="The ministry: a province's period (none: the nation's); a province sets "
        "its own whatever it names",
    )


class PeriodChangeIn(Schema):
    starts_on: IsoDate = Field(description="The first day closed")
    ends_on: IsoDate = Field(description="The last day closed")
    every_year: bool = False
    note: str = Field("", max_length=200)


class LiftIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class AdoptIn(Schema):
    operation: Operation
    province: ProvinceCode | None = None


class AdoptedOut(Schema):
    periods: list[PeriodDetailOut]


class RulesIn(Schema):
    rules: dict[str, bool] = Field(
        description="Every rule: " + ", ".join(EDITABLE_RULES) + " (an unknown one is refused)"
    )
    reason: str = Field(min_length=1, max_length=2000)


# ---- closed periods ----------------------------------------------------------------------------


@router.get("/periods", response={200: PeriodsOut, **ERRORS}, summary="Closed periods")
@endpoint_requires(Action.CHANGE_WINDOW_VIEW)
def periods_list(request: HttpRequest, params: Query[PeriodsParams]) -> dict[str, Any]:
    """The nation's periods in force and lifted, and your province's (the ministry: the province
    it names), each with the requests it holds; 404 `province_not_found` for another province."""
    page = periods_page(caller(request), params.province)
    if page is None:
        raise _no_such_province()
    return {
        "nation": _level(page.nation),
        "province": None if page.province is None else _level(page.province),
    }


@router.post("/periods", response={201: PeriodDetailOut, **ERRORS}, summary="Close an operation")
@endpoint_requires(Action.CHANGE_WINDOW_MANAGE)
def period_add(request: HttpRequest, body: PeriodIn) -> Status[dict[str, Any]]:
    """Close an operation from `starts_on` to `ends_on` (both included), once or every year:
    requests of the kind filed in it are held until it ends, those already held are dated
    again. 400 names every bad field."""
    period = closed_period_add(
        actor=caller(request),
        operation=body.operation,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        every_year=body.every_year,
        note=body.note,
        province_code=body.province,
    )
    return Status(201, _detail(request, period.pk))


@router.post(
    "/periods/adopt",
    response={200: AdoptedOut, **ERRORS},
    summary="Take the settings' periods of an operation over",
)
@endpoint_requires(Action.CHANGE_WINDOW_MANAGE)
def periods_adopt(request: HttpRequest, body: AdoptIn) -> dict[str, Any]:
    """The settings' periods of an operation become periods of the level's own, to change or
    lift them (none when the level already set its own)."""
    adopted = closed_period_defaults_adopt(
        actor=caller(request), operation=body.operation, province_code=body.province
    )
    return {"periods": [_detail(request, row.pk) for row in adopted]}


@router.get(
    "/periods/{int:period_id}", response={200: PeriodDetailOut, **ERRORS}, summary="One period"
)
@endpoint_requires(Action.CHANGE_WINDOW_VIEW)
def period_get(request: HttpRequest, period_id: DatabaseId) -> dict[str, Any]:
    """One period (in force or lifted) with the requests it holds and their resume dates."""
    return _detail(request, period_id)


@router.post(
    "/periods/{int:period_id}",
    response={200: PeriodDetailOut, **ERRORS},
    summary="Change a period's days",
)
@endpoint_requires(Action.CHANGE_WINDOW_MANAGE)
def period_change(request: HttpRequest, period_id: DatabaseId, body: PeriodChangeIn) -> Any:
    """New days for a period in force (its operation and level stay); what it holds is dated
    again. 400 `no_change` when nothing would change."""
    closed_period_edit(
        actor=caller(request),
        period_id=period_id,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        every_year=body.every_year,
        note=body.note,
    )
    return _detail(request, period_id)


@router.post(
    "/periods/{int:period_id}/lift",
    response={200: PeriodDetailOut, **ERRORS},
    summary="Lift a period",
)
@endpoint_requires(Action.CHANGE_WINDOW_MANAGE)
def period_lift(request: HttpRequest, period_id: DatabaseId, body: LiftIn) -> dict[str, Any]:
    """Open the operation again (unless another period closes it): what the period held
    proceeds. The period stays in the history with who lifted it and why."""
    closed_period_lift(actor=caller(request), period_id=period_id, reason=body.reason)
    return _detail(request, period_id)


# ---- province rules ----------------------------------------------------------------------------


@router.get("/rules", response={200: list[RulesRowOut], **ERRORS}, summary="Province rules")
@endpoint_requires(Action.PROVINCE_RULES_VIEW)
def rules_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The rules of transfers in force in every province (the ministry) or in your own."""
    rows = province_rules_list(caller(request)) or []
    return [
        {
            "province_code": row.province.code[:2],
            "province_name": row.province.name,
            "version": row.version,
            "rules": {value.name: value.value for value in row.values},
        }
        for row in rows
    ]


def _rules(request: HttpRequest, province_code: str) -> dict[str, Any]:
    view = province_rules_of(caller(request), province_code)
    if view is None:
        raise _no_such_province()
    return {
        "province_code": view.province.code[:2],
        "province_name": view.province.name,
        "rules": {value.name: value.value for value in view.values},
        "versions": [
            {
                "version": version.version,
                "rules": {name: bool(version.rules.get(name, False)) for name in EDITABLE_RULES},
                "reason": version.reason,
                "created_by": version.created_by.get_username(),
                "created_at": version.created_at,
            }
            for version in view.versions
        ],
        "may_manage": view.may_manage,
    }


@router.get(
    "/rules/{province_code}",
    response={200: ProvinceRulesOut, **ERRORS},
    summary="A province's rules and their history",
)
@endpoint_requires(Action.PROVINCE_RULES_VIEW)
def province_rules_get(request: HttpRequest, province_code: ProvinceCode) -> dict[str, Any]:
    """The rules in force and every version before, with who, when and why."""
    return _rules(request, province_code)


@router.post(
    "/rules/{province_code}",
    response={201: ProvinceRulesOut, **ERRORS},
    summary="A new version of a province's rules",
)
@endpoint_requires(Action.PROVINCE_RULES_MANAGE)
def province_rules_set(
    request: HttpRequest, province_code: ProvinceCode, body: RulesIn
) -> Status[dict[str, Any]]:
    """Every rule with its value and the reason: a new version, in force at once. 400 names an
    unknown rule, a missing one, or `no_change`."""
    if province_rules_of(caller(request), province_code) is None:
        raise _no_such_province()
    province_rules_save(
        actor=caller(request), province_code=province_code, rules=body.rules, reason=body.reason
    )
    return Status(201, _rules(request, province_code))
