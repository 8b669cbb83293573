"""The reporting app's REST endpoints (mounted at /api/reporting/): rounds, a unit's report with
its figures and the units below, its checks, and the actions of the state machine."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import COMMON_ERRORS, ErrorOut, caller
from xueji.core.errors import NotFound
from xueji.reporting import checks as unit_checks_module
from xueji.reporting.models import ReportTable, UnitReport
from xueji.reporting.selectors import (
    children_rows,
    figures_of,
    live_figures,
    rounds_visible,
    total_check,
    unit_get,
    unit_name,
)
from xueji.reporting.services import (
    revision_decide,
    revision_request,
    round_open,
    unit_confirm,
    unit_prepare,
    unit_return,
)

router = Router(tags=["reporting"])

UnitId = int


class ReportRoundIn(Schema):
    title: str = Field("", max_length=100)
    census_date: datetime.date
    province_code: str = Field(
        "", pattern=r"^([0-9]{6})?$", description="A province's code; empty: a national round."
    )
    tables: list[ReportTable] = Field(..., min_length=1)
    deadline_school: datetime.date
    deadline_county: datetime.date
    deadline_city: datetime.date
    deadline_province: datetime.date
    deadline_nation: datetime.date | None = None
    threshold_percent: int = Field(10, ge=1, le=100)
    prefill: bool = Field(False, description="Prepare every school's report from the registry.")


class ReportRoundOut(Schema):
    id: int
    title: str
    level: str
    province_code: str
    census_date: datetime.date
    tables: list[str]
    units: int


class ReportRoundRowOut(Schema):
    id: int
    title: str
    area: str
    census_date: datetime.date
    unit_id: int | None
    state: str | None


class ReportCellOut(Schema):
    table: str
    grade: int | None
    age: int | None
    sex: str
    category: str
    count: int


class ReportChildUnitOut(Schema):
    unit_id: int
    name: str
    code: str
    state: str
    reported: int | None
    previous: int | None
    registry: int | None


class ReportUnitOut(Schema):
    id: int
    round_id: int
    level: str
    name: str
    state: str
    census_date: datetime.date
    deadline: datetime.date | None
    submission: int | None
    confirmed_by: str
    confirmed_at: datetime.datetime | None
    return_reason: str
    from_snapshot: bool
    cells: list[ReportCellOut]
    units: list[ReportChildUnitOut]
    total: dict[str, Any] | None


class ReportReasonIn(Schema):
    reason: str = Field(..., max_length=2000)


class ReportDecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=1000)


class ReportFindingOut(Schema):
    kind: str
    title: str
    detail: str
    classes: list[dict[str, Any]]
    children: list[dict[str, Any]]


class ReportChecksOut(Schema):
    findings: list[ReportFindingOut]
    skipped: list[str]


class ReportStateOut(Schema):
    id: int
    state: str
    submission: int | None


def _no_such_unit() -> NotFound:
    return NotFound("report_not_found", _("No such report."))


def _unit(request: HttpRequest, unit_id: int) -> UnitReport:
    unit = unit_get(caller(request), unit_id)
    if unit is None:
        raise _no_such_unit()
    return unit


def _state(unit: UnitReport) -> dict[str, Any]:
    return {"id": unit.pk, "state": unit.state, "submission": unit.submission_id}


@router.get("/rounds", response={200: list[ReportRoundRowOut], **COMMON_ERRORS})
@endpoint_requires(Action.REPORT_VIEW)
def report_rounds(request: HttpRequest) -> object:
    """The rounds of your area, newest first, each with your own report and its state."""
    return [
        {
            "id": row.round.pk,
            "title": row.round.title,
            "area": row.area,
            "census_date": row.round.census_date,
            "unit_id": row.unit.pk if row.unit else None,
            "state": row.unit.state if row.unit else None,
        }
        for row in rounds_visible(caller(request))
    ]


@router.post("/rounds", response={201: ReportRoundOut, 409: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.REPORT_ROUND_OPEN)
def report_open_round(request: HttpRequest, payload: ReportRoundIn) -> object:
    """Open a round for the nation (the ministry) or a province: a report for every school,
    county, city and province of the area. With `prefill`, every school's report is prepared
    from the registry at once (set-based)."""
    report_round = round_open(
        actor=caller(request),
        title=payload.title,
        census_date=payload.census_date,
        tables=[str(t) for t in payload.tables],
        deadlines={
            "school": payload.deadline_school,
            "county": payload.deadline_county,
            "city": payload.deadline_city,
            "province": payload.deadline_province,
            "nation": payload.deadline_nation,
        },
        province_code=payload.province_code or None,
        threshold_percent=payload.threshold_percent,
        prefill=payload.prefill,
    )
    return Status(
        201,
        {
            "id": report_round.pk,
            "title": report_round.title,
            "level": report_round.level,
            "province_code": report_round.division_id or "",
            "census_date": report_round.census_date,
            "tables": report_round.tables,
            "units": report_round.units.count(),
        },
    )


@router.get("/units/{unit_id}", response={200: ReportUnitOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.REPORT_VIEW)
def report_unit(request: HttpRequest, unit_id: UnitId) -> object:
    """A report: its state, its figures (the snapshot in force; before one, the registry's
    now), the reports one level below with their totals, and the total check."""
    unit = _unit(request, unit_id)
    figures = figures_of(unit.submission_id) if unit.submission_id else live_figures(unit)
    rows = children_rows(unit) if unit.level != "school" else []
    check = total_check(unit, rows) if unit.level != "school" else None
    return {
        "id": unit.pk,
        "round_id": unit.round_id,
        "level": unit.level,
        "name": unit_name(unit),
        "state": unit.state,
        "census_date": unit.round.census_date,
        "deadline": unit.round.deadline(unit.level),
        "submission": unit.submission_id,
        "confirmed_by": unit.confirmed_by.username if unit.confirmed_by else "",
        "confirmed_at": unit.confirmed_at,
        "return_reason": unit.return_reason,
        "from_snapshot": unit.submission_id is not None,
        "cells": [
            {"table": t, "grade": g, "age": a, "sex": s, "category": c, "count": n}
            for (t, g, a, s, c), n in sorted(figures.items(), key=str)
        ],
        "units": [
            {
                "unit_id": r.unit.pk,
                "name": r.name,
                "code": r.code,
                "state": r.unit.state,
                "reported": r.reported,
                "previous": r.previous,
                "registry": r.registry,
            }
            for r in rows
        ],
        "total": None if check is None else vars(check),
    }


@router.get(
    "/units/{unit_id}/checks", response={200: ReportChecksOut, 404: ErrorOut, **COMMON_ERRORS}
)
@endpoint_requires(Action.REPORT_VIEW)
def report_checks(request: HttpRequest, unit_id: UnitId) -> object:
    """The checks that find the wrong class: changed cells, impossible ages, classes not
    verified in the term, children with open anomalies; each names classes and children
    (masked)."""
    found = unit_checks_module.unit_checks(_unit(request, unit_id))
    return {
        "findings": [
            {
                "kind": f.kind,
                "title": f.title,
                "detail": f.detail,
                "classes": [vars(c) for c in f.classes],
                "children": [
                    {"name": c.name, "number": c.number, "class": c.school_class}
                    for c in f.children
                ],
            }
            for f in found.findings
        ],
        "skipped": found.skipped,
    }


ACTION_ERRORS = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}


@router.post("/units/{unit_id}/prepare", response={200: ReportStateOut, **ACTION_ERRORS})
@endpoint_requires(Action.REPORT_PREPARE)
def report_prepare(request: HttpRequest, unit_id: UnitId) -> object:
    """Take the school's figures from the registry on the census date (registrar or
    principal); the report waits for the principal's confirmation."""
    return _state(unit_prepare(actor=caller(request), unit_id=unit_id))


@router.post("/units/{unit_id}/confirm", response={200: ReportStateOut, **ACTION_ERRORS})
@endpoint_requires(Action.REPORT_CONFIRM)
def report_confirm(request: HttpRequest, unit_id: UnitId) -> object:
    """Confirm the own report (a school's principal; a bureau approver once every report
    below is confirmed, 409 `units_not_confirmed` naming them). The figures are locked."""
    return _state(unit_confirm(actor=caller(request), unit_id=unit_id))


@router.post("/units/{unit_id}/return", response={200: ReportStateOut, **ACTION_ERRORS})
@endpoint_requires(Action.REPORT_CONFIRM)
def report_return(request: HttpRequest, unit_id: UnitId, payload: ReportReasonIn) -> object:
    """Return a confirmed report of the level below, with the reason, while your own is not
    confirmed."""
    return _state(unit_return(actor=caller(request), unit_id=unit_id, reason=payload.reason))


@router.post("/units/{unit_id}/revisions", response={201: ReportStateOut, **ACTION_ERRORS})
@endpoint_requires(Action.REPORT_REVISE)
def report_revision_request(
    request: HttpRequest, unit_id: UnitId, payload: ReportReasonIn
) -> object:
    """Ask for a revision of the own confirmed report: the figures taken again, with the
    reason, for the level above to approve; the confirmed figures are kept."""
    revision = revision_request(actor=caller(request), unit_id=unit_id, reason=payload.reason)
    return Status(
        201, {"id": revision.unit_id, "state": revision.state, "submission": revision.submission_id}
    )


@router.post("/units/{unit_id}/revision", response={200: ReportStateOut, **ACTION_ERRORS})
@endpoint_requires(Action.REPORT_CONFIRM)
def report_revision_decide(
    request: HttpRequest, unit_id: UnitId, payload: ReportDecisionIn
) -> object:
    """Approve or reject (with a note) the revision of a report of the level below."""
    revision = revision_decide(
        actor=caller(request), unit_id=unit_id, approve=payload.approve, note=payload.note
    )
    return {"id": revision.unit_id, "state": revision.state, "submission": revision.submission_id}
