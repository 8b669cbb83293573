"""API of changes of status (学籍异动): each party's queue, a request with its approval chain,
filing (a transfer by the receiving school, the other kinds by the student's school), the
decisions of the school and of the bureaus, withdrawal, and a school's public notice (公示).

Students are named by UUID; names outside the deciding parties' queues are masked (张*铭) and
student numbers are masked everywhere. Evidence travels base64-encoded in the JSON body.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import uuid
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.access.scope import today
from xueji.changes.kinds import FILED_BY_OWN_SCHOOL
from xueji.changes.models import ApprovalStep, ChangeRequest
from xueji.changes.queues import QUEUE_LIMIT, Box, box_rows
from xueji.changes.selectors import (
    ChangeDetail,
    QueueRow,
    change_detail,
    party_name,
    public_notice,
)
from xueji.changes.services import change_decide, change_file, change_withdraw, transfer_file
from xueji.changes.services.lookup import transfer_lookup
from xueji.changes.views import default_period
from xueji.core.api import COMMON_ERRORS, DatabaseId, ErrorOut, IsoDate, caller
from xueji.core.errors import FieldErrors, NotFound
from xueji.corrections.evidence import EVIDENCE_MAX_BYTES, Upload

router = Router(tags=["changes"])

NOT_FOUND = {404: ErrorOut, **COMMON_ERRORS}


def _no_such_change() -> NotFound:
    return NotFound("change_not_found", _("No such change request."))


# ---- input -------------------------------------------------------------------------------------


class FileIn(Schema):
    """An evidence file: JPG, PNG or PDF, at most 2 MB, its content base64-encoded."""

    name: str = Field(..., max_length=128)
    content_base64: str


def upload_of(file: FileIn | None, field: str) -> Upload | None:
    """A file sent in a JSON body (base64), for the services' checks; bad base64 is the field's
    error. Federation's filing between provinces takes its documents the same way."""
    if file is None:
        return None
    try:
        # At most one byte past the limit is kept: enough for the service to refuse the file.
        content = base64.b64decode(file.content_base64, validate=True)[: EVIDENCE_MAX_BYTES + 1]
    except (binascii.Error, ValueError):
        raise FieldErrors(
            {field: [ValidationError(_("The file is not valid base64."), code="base64")]}
        ) from None
    return Upload(name=file.name, content=content)


class LookupIn(Schema):
    """The child to take in: the student number, exact, and the name as registered (traditional
    or simplified characters, any middle dot of a minority name or none)."""

    student_number: str
    name: str


class TransferIn(LookupIn):
    to_class_id: DatabaseId = Field(..., description="A class of the receiving school, this year.")
    reason: str
    guardian_request: FileIn | None = Field(None, description="The guardian's written request.")
    evidence: list[FileIn] = []


# The kinds the student's own school files (every kind but a transfer), from the kinds'
# specification: the same `enum` of strings in the OpenAPI document as a hand-written Literal.
if TYPE_CHECKING:
    OwnSchoolKind = str
else:
    OwnSchoolKind = Literal[tuple(kind.value for kind in FILED_BY_OWN_SCHOOL)]


class ChangeIn(Schema):
    student_id: uuid.UUID
    kind: OwnSchoolKind
    reason: str
    initiator: Literal["guardian", "school"] = "guardian"
    to_class_id: DatabaseId | None = Field(None, description="The new class (class_change only).")
    suspended_from: datetime.date | None = Field(
        None, description="suspend only: the first day away (default: the day filed)."
    )
    suspended_until: datetime.date | None = Field(
        None, description="suspend only: the last day of the suspension, after the first."
    )
    guardian_request: FileIn | None = None
    evidence: list[FileIn] = []


class DecisionIn(Schema):
    decision: Literal["approve", "reject"]
    reason: str = Field("", description="Required to reject.")
    step: DatabaseId | None = Field(
        None, description="The ordinal of the step decided (a stale decision gets 409)."
    )


class WithdrawIn(Schema):
    reason: str = ""


class QueueParams(Schema):
    box: Literal["waiting", "held", "filed", "overdue", "recent"] = Field(
        "waiting",
        description=(
            "waiting: for the caller's decision; held: filed in a closed period; filed: by the "
            "caller's school; overdue: steps past their deadline reported to the caller's "
            "bureau; recent: finished."
        ),
    )


# The API's boxes: the page's, with the latest finished as `recent`.
_BOXES: dict[str, tuple[Box, int]] = {
    "waiting": (Box.WAITING, QUEUE_LIMIT),
    "held": (Box.HELD, QUEUE_LIMIT),
    "filed": (Box.FILED, QUEUE_LIMIT),
    "overdue": (Box.OVERDUE, QUEUE_LIMIT),
    "recent": (Box.FINISHED, 20),
}


class NoticeParams(Schema):
    start: IsoDate | None = None
    end: IsoDate | None = None


# ---- output ------------------------------------------------------------------------------------


class CandidateOut(Schema):
    """The masked minimum shown before an application exists."""

    masked_name: str
    sex: str
    birth_year: int
    school_name: str
    grade: int
    state: str


class StepOut(Schema):
    ordinal: int
    level: str
    side: str
    party: str
    school_id: int | None
    division_code: str | None
    state: str
    current_since: datetime.date | None
    due_on: datetime.date | None
    overdue: bool
    decided_by: str | None
    decided_at: datetime.datetime | None
    reason: str
    escalated_to_level: str


class ChangeSummaryOut(Schema):
    id: uuid.UUID
    kind: str
    state: str
    student_id: uuid.UUID
    student_name: str = Field(
        ...,
        description=(
            "In full where the caller decides the step waiting now, filed the request or may "
            "open the child's record; else masked (张*铭)."
        ),
    )
    from_school_id: int
    from_school_name: str
    to_school_id: int | None
    to_school_name: str | None
    filed_on: datetime.date
    resumes_on: datetime.date | None
    current_step: StepOut | None
    overdue: bool


class EvidenceOut(Schema):
    id: uuid.UUID
    purpose: str
    file_name: str
    content_type: str
    size: int


class LogOut(Schema):
    at: datetime.datetime
    event: str
    from_state: str
    to_state: str
    actor: str | None
    note: str


class ChangeDetailOut(ChangeSummaryOut):
    student_number: str = Field(..., description="Masked.")
    initiator: str
    from_grade: int
    to_class_id: int | None
    suspended_from: datetime.date | None
    suspended_until: datetime.date | None
    reason: str
    effective_date: datetime.date | None
    steps: list[StepOut]
    evidence: list[EvidenceOut]
    log: list[LogOut]
    may_decide: bool
    may_withdraw: bool


class NoticeRowOut(Schema):
    name: str = Field(..., description="Masked (张*铭).")
    sex: str
    grade: int
    other_school: str
    date: datetime.date


class NoticeOut(Schema):
    school_id: int
    school_name: str
    start: datetime.date
    end: datetime.date
    transfers_in: list[NoticeRowOut]
    transfers_out: list[NoticeRowOut]


def _step(step: ApprovalStep | None, on: datetime.date) -> dict[str, Any] | None:
    if step is None:
        return None
    decided_by = None if step.decided_by is None else step.decided_by.get_username()
    return {
        "ordinal": step.ordinal,
        "level": step.level,
        "side": step.side,
        "party": party_name(step),
        "school_id": step.school_id,
        "division_code": step.division_id,
        "state": step.state,
        "current_since": step.current_since,
        "due_on": step.due_on,
        "overdue": bool(step.state == "pending" and step.due_on and step.due_on < on),
        "decided_by": decided_by,
        "decided_at": step.decided_at,
        "reason": step.reason,
        "escalated_to_level": step.escalated_to_level,
    }


def _summary(
    change: ChangeRequest, step: ApprovalStep | None, *, name: str, overdue: bool
) -> dict[str, Any]:
    return {
        "id": change.pk,
        "kind": change.kind,
        "state": change.state,
        "student_id": change.student_id,
        "student_name": name,
        "from_school_id": change.from_school_id,
        "from_school_name": change.from_school.name,
        "to_school_id": change.to_school_id,
        "to_school_name": None if change.to_school is None else change.to_school.name,
        "filed_on": change.filed_on,
        "resumes_on": change.resumes_on,
        "current_step": _step(step, today()),
        "overdue": overdue,
    }


def _row(row: QueueRow) -> dict[str, Any]:
    return _summary(row.change, row.step, name=row.shown_name, overdue=row.overdue)


def _detail(found: ChangeDetail) -> dict[str, Any]:
    change = found.change
    body = _summary(
        change,
        found.current,
        name=found.shown_name,
        overdue=found.overdue,
    )
    body.update(
        student_number=found.number_masked,
        initiator=change.initiator,
        from_grade=change.from_grade,
        to_class_id=change.to_class_id,
        suspended_from=change.suspended_from,
        suspended_until=change.suspended_until,
        reason=change.reason,
        effective_date=change.effective_date,
        steps=[_step(s, found.on) for s in found.steps],
        evidence=[
            {
                "id": e.pk,
                "purpose": e.purpose,
                "file_name": e.file_name,
                "content_type": e.content_type,
                "size": e.size,
            }
            for e in found.evidence
        ],
        log=[
            {
                "at": entry.at,
                "event": entry.event,
                "from_state": entry.from_state,
                "to_state": entry.to_state,
                "actor": entry.actor.get_username() if entry.actor_id else None,
                "note": entry.note,
            }
            for entry in found.log
        ],
        may_decide=found.may_decide,
        may_withdraw=found.may_withdraw,
    )
    return body


def _detail_of(request: HttpRequest, change_id: Any) -> dict[str, Any]:
    found = change_detail(caller(request), change_id)
    if found is None:
        raise _no_such_change()
    return _detail(found)


# ---- endpoints ---------------------------------------------------------------------------------


@router.get("", response={200: list[ChangeSummaryOut], **COMMON_ERRORS})
@endpoint_requires(Action.CHANGE_VIEW)
def change_list(request: HttpRequest, params: Query[QueueParams]) -> object:
    """The caller's queue (one box of it, at most 200 requests; the 20 latest finished for
    `recent`); each child named in full where the caller decides, filed or may open the record,
    else masked."""
    box, limit = _BOXES[params.box]
    return [_row(r) for r in box_rows(caller(request), box, limit=limit)]


@router.get("/notices/{int:school_id}", response={200: NoticeOut, **NOT_FOUND})
@endpoint_requires(Action.CHANGE_NOTICE_VIEW)
def change_public_notice(
    request: HttpRequest, school_id: DatabaseId, params: Query[NoticeParams]
) -> object:
    """A school's public notice (公示): transfers completed in and out over a period (default:
    the last 30 days), names masked, no number of any kind."""
    start, end = default_period(today())
    start, end = params.start or start, params.end or end
    found = public_notice(
        caller(request), school_id=school_id, start=min(start, end), end=max(start, end)
    )
    if found is None:
        raise NotFound("school_not_found", _("No such school."))

    def rows(items: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "name": r.masked_name,
                "sex": r.sex_label,
                "grade": r.grade,
                "other_school": r.other_school,
                "date": r.on,
            }
            for r in items
        ]

    return {
        "school_id": found.school.pk,
        "school_name": found.school.name,
        "start": found.start,
        "end": found.end,
        "transfers_in": rows(found.transfers_in),
        "transfers_out": rows(found.transfers_out),
    }


@router.post("/transfers/lookup", response={200: CandidateOut, 429: ErrorOut, **NOT_FOUND})
@endpoint_requires(Action.CHANGE_FILE)
def change_lookup_transfer(request: HttpRequest, payload: LookupIn) -> object:
    """The receiving registrar finds the child by the student number (exact) and the name (in
    traditional or simplified characters, with any middle dot or none): only a masked minimum is
    returned. Every answer, found or not, is an audited look-up, limited
    per user and hour: beyond the limit 429 `lookup_limit_reached`."""
    found = transfer_lookup(actor=caller(request), number=payload.student_number, name=payload.name)
    if found is None:
        raise NotFound("student_not_found", _("No child has this student number and this name."))
    return {
        "masked_name": found.masked_name,
        "sex": found.sex,
        "birth_year": found.birth_year,
        "school_name": found.school_name,
        "grade": found.grade,
        "state": found.state,
    }


@router.post(
    "/transfers",
    response={201: ChangeDetailOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.CHANGE_FILE)
def change_file_transfer(request: HttpRequest, payload: TransferIn) -> object:
    """The receiving school's registrar files a transfer application (the guardian's request
    attached). It is pending at the next party, or held until a closed period ends. A complete
    filing answered "no such child" (404) or refused for another school's child's state (409)
    is an audited look-up, limited with the others per user and hour: beyond the limit 429
    `lookup_limit_reached`."""
    change = transfer_file(
        actor=caller(request),
        student_number=payload.student_number,
        name=payload.name,
        to_class_id=payload.to_class_id,
        reason=payload.reason,
        guardian_request=upload_of(payload.guardian_request, "guardian_request"),
        evidence=[u for u in (upload_of(f, "evidence") for f in payload.evidence) if u],
    )
    return Status(201, _detail_of(request, change.pk))


@router.post("", response={201: ChangeDetailOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.CHANGE_FILE)
def change_file_request(request: HttpRequest, payload: ChangeIn) -> object:
    """The registrar of the student's school files a change other than a transfer."""
    change = change_file(
        actor=caller(request),
        student_id=payload.student_id,
        kind=payload.kind,
        reason=payload.reason,
        initiator=payload.initiator,
        to_class_id=payload.to_class_id,
        guardian_request=upload_of(payload.guardian_request, "guardian_request"),
        evidence=[u for u in (upload_of(f, "evidence") for f in payload.evidence) if u],
        suspended_from=payload.suspended_from,
        suspended_until=payload.suspended_until,
    )
    return Status(201, _detail_of(request, change.pk))


@router.get("/{uuid:change_id}", response={200: ChangeDetailOut, **NOT_FOUND})
@endpoint_requires(Action.CHANGE_VIEW)
def change_get(request: HttpRequest, change_id: uuid.UUID) -> object:
    """A request with its approval chain (each step: party, state, who, when, deadline), the
    evidence list and the log."""
    return _detail_of(request, change_id)


def _decided(request: HttpRequest, change_id: uuid.UUID, payload: DecisionIn) -> object:
    change_decide(
        actor=caller(request),
        change_id=change_id,
        approve=payload.decision == "approve",
        reason=payload.reason,
        step_ordinal=payload.step,
    )
    return _detail_of(request, change_id)


@router.post(
    "/{uuid:change_id}/school-decision",
    response={200: ChangeDetailOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.CHANGE_APPROVE_SCHOOL)
def change_school_decision(
    request: HttpRequest, change_id: uuid.UUID, payload: DecisionIn
) -> object:
    """The school whose step it is approves or rejects (a reason is required to reject)."""
    return _decided(request, change_id, payload)


@router.post(
    "/{uuid:change_id}/bureau-decision",
    response={200: ChangeDetailOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.CHANGE_APPROVE_BUREAU)
def change_bureau_decision(
    request: HttpRequest, change_id: uuid.UUID, payload: DecisionIn
) -> object:
    """The county or province bureau whose step it is approves or rejects."""
    return _decided(request, change_id, payload)


@router.post(
    "/{uuid:change_id}/withdraw",
    response={200: ChangeDetailOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.CHANGE_FILE)
def change_withdraw_request(
    request: HttpRequest, change_id: uuid.UUID, payload: WithdrawIn
) -> object:
    """The applicant school withdraws a request not yet decided."""
    change_withdraw(actor=caller(request), change_id=change_id, reason=payload.reason)
    return _detail_of(request, change_id)
