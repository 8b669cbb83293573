"""The federation app's REST endpoints (mounted at /api/federation/): transfers between
provinces across nodes, on a province's node (xueji.federation.transfers). The receiving
school's registrar files (with the guardian's request and documents, base64-encoded as for
/api/changes/transfers) and may withdraw its filing; each party decides its step on its own
node, as for a transfer in one database (/api/changes/...); and this province's parts of
duplicates across provinces, which the county of the record decides."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.changes.api import FileIn, upload_of
from xueji.core.api import COMMON_ERRORS, ErrorOut, caller
from xueji.federation import duplicates, transfers
from xueji.federation.models import CrossTransfer, NationalDuplicate, RemoteDuplicate

router = Router(tags=["federation"])
NOT_FOUND = {404: ErrorOut, **COMMON_ERRORS}


class CrossTransferIn(Schema):
    student_number: str = Field(..., max_length=19)
    name: str = Field(..., max_length=64)
    to_class_id: int
    reason: str = Field(..., max_length=2000)
    guardian_request: FileIn | None = Field(None, description="The guardian's written request.")
    evidence: list[FileIn] = Field([], max_length=5)


class CrossWithdrawIn(Schema):
    reason: str = Field("", max_length=400)


class CrossEvidenceOut(Schema):
    id: uuid.UUID
    purpose: str
    file_name: str
    content_type: str
    size: int
    uploaded_by_name: str


class CrossDecisionIn(Schema):
    decision: Literal["approve", "reject"]
    reason: str = Field("", max_length=2000)
    step: int | None = None


class CrossStepOut(Schema):
    ordinal: int
    level: str
    side: str
    division_code: str
    party_name: str
    state: str
    decided_by_name: str
    decided_at: datetime.datetime | None
    reason: str


class CrossTransferOut(Schema):
    id: uuid.UUID
    side: str
    state: str
    number_masked: str
    name_masked: str
    from_province: str
    to_province: str
    from_school_name: str
    to_school_name: str
    grade: int | None
    reason: str
    filed_on: datetime.date
    effective_date: datetime.date | None
    refusal: str
    released_at: datetime.datetime | None
    may_decide: bool
    may_withdraw: bool
    evidence: list[CrossEvidenceOut]
    steps: list[CrossStepOut]


class CrossListParams(Schema):
    state: Literal["pending", "completed", "rejected", "withdrawing", "withdrawn"] | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


def _out(request: HttpRequest, transfer: CrossTransfer) -> dict[str, Any]:
    return {
        **{
            name: getattr(transfer, name)
            for name in (
                "id",
                "side",
                "state",
                "number_masked",
                "name_masked",
                "from_province",
                "to_province",
                "from_school_name",
                "to_school_name",
                "grade",
                "reason",
                "filed_on",
                "effective_date",
                "refusal",
                "released_at",
            )
        },
        "may_decide": transfers.may_decide_now(caller(request), transfer),
        "may_withdraw": transfers.may_withdraw_now(caller(request), transfer),
        "evidence": [
            {
                name: getattr(document, name)
                for name in (
                    "id",
                    "purpose",
                    "file_name",
                    "content_type",
                    "size",
                    "uploaded_by_name",
                )
            }
            for document in transfer.evidence.defer("sealed")
        ],
        "steps": [
            {
                name: getattr(step, name)
                for name in (
                    "ordinal",
                    "level",
                    "side",
                    "division_code",
                    "party_name",
                    "state",
                    "decided_by_name",
                    "decided_at",
                    "reason",
                )
            }
            for step in transfers.steps_of(transfer)
        ],
    }


@router.get("/transfers", response={200: list[CrossTransferOut], **COMMON_ERRORS})
@endpoint_requires(Action.CHANGE_VIEW)
def cross_transfer_list(request: HttpRequest, params: Query[CrossListParams]) -> object:
    """The transfers between provinces of the caller's scope on this node, newest first."""
    rows = transfers.transfers_visible(caller(request)).order_by("-created_at")
    if params.state:
        rows = rows.filter(state=params.state)
    return [_out(request, t) for t in rows[params.offset : params.offset + params.limit]]


@router.post(
    "/transfers",
    response={201: CrossTransferOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.CHANGE_FILE)
def cross_transfer_file(request: HttpRequest, payload: CrossTransferIn) -> object:
    """The receiving school's registrar files a transfer in of a child of another province (the
    hub names the province from the number; that node compares the name), with the guardian's
    written request and any supporting documents (JPG, PNG or PDF, 2 MB each, 6 MB in all),
    which travel sealed to the sending node for its parties."""
    transfer = transfers.cross_transfer_file(
        actor=caller(request),
        student_number=payload.student_number,
        name=payload.name,
        to_class_id=payload.to_class_id,
        reason=payload.reason,
        guardian_request=upload_of(payload.guardian_request, "guardian_request"),
        evidence=[u for u in (upload_of(f, "evidence") for f in payload.evidence) if u],
    )
    return Status(201, _out(request, transfer))


@router.get("/transfers/{uuid:transfer_id}", response={200: CrossTransferOut, **NOT_FOUND})
@endpoint_requires(Action.CHANGE_VIEW)
def cross_transfer_get(request: HttpRequest, transfer_id: uuid.UUID) -> object:
    return _out(request, transfers.transfer_get(caller(request), transfer_id))


@router.post(
    "/transfers/{uuid:transfer_id}/withdraw",
    response={200: CrossTransferOut, 409: ErrorOut, **NOT_FOUND},
)
@endpoint_requires(Action.CHANGE_FILE)
def cross_transfer_withdraw(
    request: HttpRequest, transfer_id: uuid.UUID, payload: CrossWithdrawIn
) -> object:
    """The receiving school that filed takes its filing back before the final approval: the
    transfer is `withdrawing` until the sending province's node, which holds the record, has
    taken it (`withdrawn`, the record there 在籍 again) — or `completed` if its final approval
    came first."""
    transfer = transfers.cross_transfer_withdraw(
        actor=caller(request), transfer_id=transfer_id, reason=payload.reason
    )
    return _out(request, transfer)


def _decided(request: HttpRequest, transfer_id: uuid.UUID, payload: CrossDecisionIn) -> object:
    transfer = transfers.cross_transfer_decide(
        actor=caller(request),
        transfer_id=transfer_id,
        approve=payload.decision == "approve",
        reason=payload.reason,
        step_ordinal=payload.step,
    )
    transfer.refresh_from_db()
    return _out(request, transfer)


@router.post(
    "/transfers/{uuid:transfer_id}/school-decision",
    response={200: CrossTransferOut, 409: ErrorOut, **NOT_FOUND},
)
@endpoint_requires(Action.CHANGE_APPROVE_SCHOOL)
def cross_transfer_school_decision(
    request: HttpRequest, transfer_id: uuid.UUID, payload: CrossDecisionIn
) -> object:
    """The school whose step it is, on its own node, approves or rejects (a reason to reject)."""
    return _decided(request, transfer_id, payload)


@router.post(
    "/transfers/{uuid:transfer_id}/bureau-decision",
    response={200: CrossTransferOut, 409: ErrorOut, **NOT_FOUND},
)
@endpoint_requires(Action.CHANGE_APPROVE_BUREAU)
def cross_transfer_bureau_decision(
    request: HttpRequest, transfer_id: uuid.UUID, payload: CrossDecisionIn
) -> object:
    """The county or province bureau whose step it is approves or rejects; the sending
    province's approval is the final one, and the record moves to the receiving node."""
    return _decided(request, transfer_id, payload)


# ---- duplicates across provinces (xueji.federation.duplicates) --------------------------------


class RemoteDuplicateOut(Schema):
    pair: uuid.UUID
    record: uuid.UUID
    county: str
    remote_record: uuid.UUID
    remote_province: str
    remote_school_name: str
    remote_number_masked: str
    score: float
    contributions: dict[str, float]
    state: str
    note: str
    keeps: str
    round: int
    other_decision: str
    other_keeps: str
    other_note: str
    refusal: str
    settled_at: datetime.datetime | None
    may_decide: bool
    may_undo: bool


class RemoteDuplicateDecisionIn(Schema):
    decision: Literal["same", "not_same"]
    keeps: Literal["here", "there", ""] = Field(
        "", description='with "same": the province that keeps the child (where it attends school)'
    )
    note: str = Field("", max_length=500)


class RemoteDuplicateParams(Schema):
    state: (
        Literal[
            "proposed", "same", "not_same", "disputed", "merged_away", "kept", "closed", "undone"
        ]
        | None
    ) = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


def _pair_out(request: HttpRequest, pair: RemoteDuplicate) -> dict[str, Any]:
    return {
        **{
            name: getattr(pair, name)
            for name in (
                "pair",
                "record",
                "county",
                "remote_record",
                "remote_province",
                "remote_school_name",
                "remote_number_masked",
                "score",
                "contributions",
                "state",
                "note",
                "keeps",
                "round",
                "other_decision",
                "other_keeps",
                "other_note",
                "refusal",
                "settled_at",
            )
        },
        "may_decide": duplicates.may_decide_remote(caller(request), pair),
        "may_undo": duplicates.may_undo_remote(caller(request), pair),
    }


@router.get("/duplicates", response={200: list[RemoteDuplicateOut], **COMMON_ERRORS})
@endpoint_requires(Action.DUPLICATE_VIEW)
def remote_duplicate_list(request: HttpRequest, params: Query[RemoteDuplicateParams]) -> object:
    """This province's parts of pairs across provinces in the caller's area (the hub's national
    duplicate search), the highest scores first."""
    rows = duplicates.remote_duplicates_visible(caller(request))
    if params.state:
        rows = rows.filter(state=params.state)
    return [_pair_out(request, p) for p in rows[params.offset : params.offset + params.limit]]


@router.post(
    "/duplicates/{uuid:remote_pair_id}/decision",
    response={200: RemoteDuplicateOut, 409: ErrorOut, **NOT_FOUND},
)
@endpoint_requires(Action.DUPLICATE_DECIDE)
def remote_duplicate_decision(
    request: HttpRequest, remote_pair_id: uuid.UUID, payload: RemoteDuplicateDecisionIn
) -> object:
    """The county of the record here decides whether the two records are one child; "same" says
    which province keeps the child (`keeps`: here or there) and how (`note`). The hub is told;
    once both provinces agree, the other record is merged into the keeper's."""
    pair = duplicates.remote_duplicate_decide(
        actor=caller(request),
        pair=remote_pair_id,
        same=payload.decision == "same",
        keeps=payload.keeps,
        note=payload.note,
    )
    return _pair_out(request, pair)


@router.post(
    "/duplicates/{uuid:remote_pair_id}/undo",
    response={200: RemoteDuplicateOut, 409: ErrorOut, **NOT_FOUND},
)
@endpoint_requires(Action.DUPLICATE_DECIDE)
def remote_duplicate_undo(request: HttpRequest, remote_pair_id: uuid.UUID) -> object:
    """The county of a record merged into another province's undoes the merge (within 30 days,
    unless the record changed since); the hub moves the numbers back."""
    pair = duplicates.remote_duplicate_undo(actor=caller(request), pair=remote_pair_id)
    return _pair_out(request, pair)


# ---- the national bureau's ruling on a disputed pair (hub) -------------------------------------


class NationalDuplicateOut(Schema):
    pair: uuid.UUID
    record_a: uuid.UUID
    province_a: str
    record_b: uuid.UUID
    province_b: str
    score: float
    decision_a: str
    keeps_a: str
    decision_b: str
    keeps_b: str
    round: int
    outcome: str
    keeper_record: uuid.UUID | None
    settled_by_name: str
    settled_at: datetime.datetime | None


class NationalSettleIn(Schema):
    decision: Literal["same", "not_same"]
    keeps: str = Field("", max_length=2, description='with "same": the province that keeps it')
    note: str = Field(..., max_length=500)


class NationalDuplicateParams(Schema):
    outcome: (
        Literal["disputed", "merging", "merged", "not_same", "refused", "undone", "none"] | None
    ) = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


def _national_out(pair: NationalDuplicate) -> dict[str, Any]:
    return {
        "pair": pair.pk,
        **{
            name: getattr(pair, name)
            for name in (
                "record_a",
                "province_a",
                "record_b",
                "province_b",
                "score",
                "decision_a",
                "keeps_a",
                "decision_b",
                "keeps_b",
                "round",
                "outcome",
                "keeper_record",
                "settled_by_name",
                "settled_at",
            )
        },
    }


@router.get("/national-duplicates", response={200: list[NationalDuplicateOut], **COMMON_ERRORS})
@endpoint_requires(Action.DUPLICATE_SETTLE)
def national_duplicate_list(request: HttpRequest, params: Query[NationalDuplicateParams]) -> object:
    """The hub's pairs across provinces (the national bureau), the disputed ones first;
    `outcome=none` for those still waiting for the provinces."""
    rows = duplicates.national_duplicates_visible(caller(request))
    if params.outcome:
        rows = rows.filter(outcome="" if params.outcome == "none" else params.outcome)
    return [_national_out(p) for p in rows[params.offset : params.offset + params.limit]]


@router.post(
    "/national-duplicates/{uuid:remote_pair_id}/settle",
    response={200: NationalDuplicateOut, 409: ErrorOut, **NOT_FOUND},
)
@endpoint_requires(Action.DUPLICATE_SETTLE)
def national_duplicate_settle(
    request: HttpRequest, remote_pair_id: uuid.UUID, payload: NationalSettleIn
) -> object:
    """The national bureau settles a pair the two provinces dispute: one child kept by one of
    its two provinces (the other record is then merged into it), or not the same child."""
    pair = duplicates.national_duplicate_settle(
        actor=caller(request),
        pair=remote_pair_id,
        same=payload.decision == "same",
        keeps=payload.keeps,
        note=payload.note,
    )
    return _national_out(pair)
