"""API of the school year: year-end runs (dry run, start, progress, reversal), the intake of
graduates into a first grade, and the possible dropouts of an area."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import COMMON_ERRORS, DatabaseId, ErrorOut, Year, caller
from xueji.core.errors import NotFound
from xueji.yearend.models import RunKind
from xueji.yearend.selectors import possible_dropouts, run_get, runs_visible
from xueji.yearend.services import intake_admit, run_plan, run_reverse, run_start

router = Router(tags=["yearend"])


class RunOut(Schema):
    id: uuid.UUID
    kind: str
    scope_level: str
    scope_code: str
    scope_name: str
    from_year: int
    state: str
    chunks_total: int
    chunks_done: int
    students_total: int
    students_done: int
    percent: int
    report: dict[str, Any]
    error: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


# What a run covers, as `resolve_target` reads it: the nation, a province by its first two
# digits, a division's 6-digit code, or a school's 10-digit code.
RUN_SCOPE_PATTERN = r"^(nation|[0-9]{2}|[0-9]{6}|[0-9]{10})$"


CONFIRM_OUTSIDE_PERIOD = (
    "true to plan or start the run outside the promotion period (升级毕业时间) of its province "
    "(the nation's where the province set none). Without it such a request is refused with 400 "
    "`outside_promotion_period`, whose message and `details.periods` name the period."
)


class PlanIn(Schema):
    kind: RunKind
    scope: str = Field(
        ...,
        pattern=RUN_SCOPE_PATTERN,
        description="`nation`, a province's 2 digits, a division's 6-digit code or a school's "
        "10-digit code.",
    )
    from_year: Year | None = Field(
        None,
        description="The school year the run leaves, by its first year (default: the current one).",
    )
    confirm_outside_period: bool = Field(False, description=CONFIRM_OUTSIDE_PERIOD)


class StartIn(Schema):
    confirm_outside_period: bool = Field(False, description=CONFIRM_OUTSIDE_PERIOD)


class ReverseIn(Schema):
    note: str = ""


class IntakeIn(Schema):
    school_class_id: DatabaseId
    student_numbers: list[str]


class IntakeOut(Schema):
    school_class_id: int
    admitted: int
    student_ids: list[uuid.UUID]


class DropoutParams(Schema):
    from_year: Year | None = Field(
        None, description="The school year whose graduates are looked at (default: the last one)."
    )


class DropoutOut(Schema):
    deadline: datetime.date
    passed: bool
    counties: list[dict[str, Any]]
    students: list[dict[str, Any]]


def _no_such_run() -> NotFound:
    return NotFound("run_not_found", _("No such year-end run."))


@router.get("/runs", response={200: list[RunOut], **COMMON_ERRORS})
@endpoint_requires(Action.YEAREND_VIEW)
def list_runs(request: HttpRequest) -> object:
    """The latest year-end runs whose scope lies in your area."""
    return runs_visible(caller(request))


@router.post("/runs", response={201: RunOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.YEAREND_RUN)
def plan_run(request: HttpRequest, payload: PlanIn) -> object:
    """The dry run of a promotion (`promote`) or graduation (`graduate`) of a scope (a school
    code, a division code, or `nation`): counts per school and grade, and the unfinished
    business that must be cleared first. The run waits, planned, to be started. Outside the
    promotion period: 400 `outside_promotion_period` unless `confirm_outside_period` is true."""
    run = run_plan(
        actor=caller(request),
        kind=payload.kind,
        scope=payload.scope,
        from_year=payload.from_year,
        outside_period_confirmed=payload.confirm_outside_period,
    )
    return Status(201, run)


@router.get("/runs/{run_id}", response={200: RunOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.YEAREND_VIEW)
def get_run(request: HttpRequest, run_id: uuid.UUID) -> object:
    """A run with its dry-run report and its progress (chunks and students done)."""
    run = run_get(caller(request), run_id)
    if run is None:
        raise _no_such_run()
    return run


@router.post(
    "/runs/{run_id}/start", response={202: RunOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}
)
@endpoint_requires(Action.YEAREND_RUN)
def start_run(request: HttpRequest, run_id: uuid.UUID, payload: StartIn | None = None) -> object:
    """Start a planned run (or resume a failed one) as a background task. 409
    `clearing_unfinished` names the items still to finish or cancel, 409 `yearend_closed` the
    closed period; outside the promotion period 400 `outside_promotion_period` unless the body
    says `{"confirm_outside_period": true}`."""
    confirmed = payload is not None and payload.confirm_outside_period
    return Status(
        202, run_start(actor=caller(request), run_id=run_id, outside_period_confirmed=confirmed)
    )


@router.post(
    "/runs/{run_id}/reverse",
    response={200: RunOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.YEAREND_REVERSE)
def reverse_run(request: HttpRequest, run_id: uuid.UUID, payload: ReverseIn) -> object:
    """Put back what a run did, within the reversible period (409 when it is over, or when
    records have moved since: they are named)."""
    return run_reverse(actor=caller(request), run_id=run_id, note=payload.note)


@router.post("/intake", response={200: IntakeOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.INTAKE_ADMIT)
def admit_graduates(request: HttpRequest, payload: IntakeIn) -> object:
    """Admit graduates of the previous stage, by student number, into a first-grade class of
    your school: the same records and numbers. All or nothing: 400 names every bad line."""
    return intake_admit(
        actor=caller(request),
        school_class_id=payload.school_class_id,
        student_numbers=payload.student_numbers,
    )


@router.get("/dropouts", response={200: DropoutOut, **COMMON_ERRORS})
@endpoint_requires(Action.DROPOUTS_VIEW)
def list_dropouts(request: HttpRequest, params: Query[DropoutParams]) -> object:
    """Graduates of a compulsory-stage grade admitted nowhere, per county (numbers masked)."""
    found = possible_dropouts(caller(request), from_year=params.from_year)
    return {
        "deadline": found.deadline,
        "passed": found.passed,
        "counties": [{"code": c.code, "name": c.name, "count": c.count} for c in found.counties],
        "students": [
            {
                "id": s.pk,
                "number": s.number_masked,
                "school": s.school.name,
                "county": s.school.county_id,
            }
            for s in found.students
        ],
    }
