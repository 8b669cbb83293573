"""The identity app's REST endpoints (mounted at /api/identity/): the population roll's loads,
identity statuses (the registrar's disagreements), duplicate pairs and their decisions, the scan,
有人无籍 and 人籍分离."""

from __future__ import annotations

import base64
import binascii
import datetime
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.access.scope import division_in_area, require
from xueji.core.api import COMMON_ERRORS, ErrorOut, NonEmptyUploadedFile, caller
from xueji.core.errors import FieldErrors, NotFound
from xueji.corrections.evidence import EVIDENCE_MAX_BYTES, Upload
from xueji.identity.models import (
    DuplicatePair,
    IdentityStatus,
    ProvinceIdentityRule,
    RollLoad,
    UnrecordedChild,
)
from xueji.identity.review import ReviewRow, resubmitted_changes, review_detail, review_list
from xueji.identity.scan import duplicate_scan
from xueji.identity.selectors import (
    anomalies,
    identity_status_counts,
    pair_detail,
    pair_list,
    roll_loads,
    status_counts_in_area,
    status_list,
    unrecorded_list,
)
from xueji.identity.services import (
    identity_rule_set,
    pair_decide,
    pair_undo,
    roll_load,
    unrecorded_decide,
)
from xueji.identity.sources import other_pairs
from xueji.students.models import ReviewState
from xueji.students.review import (
    registration_approve,
    registration_resubmit,
    registration_return,
    registration_withdraw,
)

router = Router(tags=["identity"])
RESPONSES: dict[int, Any] = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}
ROLL_MAX_BYTES = 512 * 1024 * 1024


class IdentityPageParams(Schema):
    page: int = Field(1, ge=1, le=1_000_000)


class IdentityStatusParams(IdentityPageParams):
    status: str = Field("", description="confirmed, disagrees, not_in_roll (empty: all)")


class IdentityStatusOut(Schema):
    student_id: uuid.UUID
    name: str
    number: str
    school: str
    status: str
    differing: list[str]
    correction_url: str


def _status_out(row: IdentityStatus) -> dict[str, Any]:
    return {
        "student_id": row.student_id,
        "name": row.student.name,
        "number": row.student.number_masked,
        "school": row.student.school.name,
        "status": row.status,
        "differing": row.differing,
        "correction_url": f"/corrections/new/{row.student_id}/",
    }


@router.get("/statuses", response={200: list[IdentityStatusOut], **COMMON_ERRORS})
@endpoint_requires(Action.IDENTITY_STATUS_VIEW)
def list_statuses(request: HttpRequest, params: Query[IdentityStatusParams]) -> object:
    """Records of your area (a registrar: the school's) with their identity status against the
    population roll; `status=disagrees` is the registrar's work list, each with the fields that
    differ and where to correct them (the key-data correction)."""
    found = status_list(caller(request), status=params.status, page=params.page)
    return [_status_out(row) for row in found.object_list]


class IdentityCountsParams(Schema):
    county: str = Field("", pattern=r"^([0-9]{6})?$", description="default: your county")


@router.get("/counts", response={200: dict[str, int], **RESPONSES})
@endpoint_requires(Action.IDENTITY_STATUS_VIEW)
def status_counts(request: HttpRequest, params: Query[IdentityCountsParams]) -> object:
    """A county's records by identity status, its open pairs and open 有人无籍 children (without
    `county`: those of the records you see)."""
    scope = require(caller(request), Action.IDENTITY_STATUS_VIEW)
    county = params.county
    if not county:
        return status_counts_in_area(caller(request))
    if scope.is_school or not division_in_area(scope, county):
        raise NotFound("county_not_found", _("No such county in your area."))
    return identity_status_counts(county_code=county)


class IdentityLoadOut(Schema):
    id: uuid.UUID
    province_code: str
    file_name: str
    incremental: bool
    state: str
    rows: int
    errors: list[dict[str, Any]]
    timings: dict[str, Any]
    started_at: datetime.datetime
    finished_at: datetime.datetime | None


def _load_out(load: RollLoad) -> dict[str, Any]:
    return {
        field: getattr(load, field)
        for field in (
            "id",
            "province_code",
            "file_name",
            "incremental",
            "state",
            "rows",
            "errors",
            "timings",
            "started_at",
            "finished_at",
        )
    }


@router.get("/roll/loads", response={200: list[IdentityLoadOut], **COMMON_ERRORS})
@endpoint_requires(Action.IDENTITY_ROLL_VIEW)
def list_roll_loads(request: HttpRequest) -> object:
    """The population roll's loads of your province (the latest 100)."""
    return [_load_out(load) for load in roll_loads(caller(request))[:100]]


@router.post("/roll/loads", response={201: IdentityLoadOut, **RESPONSES})
@endpoint_requires(Action.IDENTITY_ROLL_LOAD)
def load_roll(
    request: HttpRequest,
    file: File[NonEmptyUploadedFile],
    incremental: Form[bool] = False,
) -> object:
    """Load a population roll file (CSV or .xlsx) for your province, all or nothing: a refused
    file comes back as a load in the state `refused` with every row's error."""
    if (file.size or 0) > ROLL_MAX_BYTES:
        raise FieldErrors(
            {"file": [ValidationError(_("The file is too large."), code="too_large")]}
        )
    load = roll_load(
        actor=caller(request),
        file_name=file.name or "roll.csv",
        content=file.read(),
        incremental=incremental,
    )
    return Status(201, _load_out(load))


class IdentityPairParams(IdentityPageParams):
    state: str = Field("", description="proposed, escalated, same, not_same, undone")


class IdentityPairOut(Schema):
    id: uuid.UUID
    student_a: uuid.UUID
    student_b: uuid.UUID
    county_a: str
    county_b: str
    score: float
    contributions: dict[str, float]
    state: str
    due_on: datetime.date
    survivor: uuid.UUID | None


def _pair_out(pair: DuplicatePair) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "student_a": pair.student_a_id,
        "student_b": pair.student_b_id,
        "county_a": pair.county_a,
        "county_b": pair.county_b,
        "score": pair.score,
        "contributions": pair.contributions,
        "state": pair.state,
        "due_on": pair.due_on,
        "survivor": pair.survivor_id,
    }


@router.get("/pairs", response={200: list[IdentityPairOut], **COMMON_ERRORS})
@endpoint_requires(Action.DUPLICATE_VIEW)
def list_pairs(request: HttpRequest, params: Query[IdentityPairParams]) -> object:
    """Pairs of records that may be one child (一人多籍) with a record in your area, best first."""
    found = pair_list(caller(request), state=params.state, page=params.page)
    return [_pair_out(pair) for pair in found.object_list]


class IdentityOtherPairOut(Schema):
    source: str
    key: str
    record: uuid.UUID | None
    record_label: str
    school_name: str
    other: str
    score: float
    state: str
    open: bool
    url: str


class IdentityOtherPairParams(Schema):
    open: bool = Field(True, description="only the pairs waiting for a decision")
    limit: int = Field(50, ge=1, le=200)


@router.get("/pairs-elsewhere", response={200: list[IdentityOtherPairOut], **COMMON_ERRORS})
@endpoint_requires(Action.DUPLICATE_VIEW)
def list_pairs_elsewhere(request: HttpRequest, params: Query[IdentityOtherPairParams]) -> object:
    """Pairs of records in your area held outside identity's own pairs (on a province's node:
    the pairs across provinces found by the national hub), each with the address of the page
    where it is decided."""
    return [
        {
            "source": row.source,
            "key": row.key,
            "record": row.record_id,
            "record_label": row.record_label,
            "school_name": row.school_name,
            "other": row.other_label,
            "score": row.score,
            "state": row.state,
            "open": row.open,
            "url": row.url,
        }
        for row in other_pairs(caller(request), open_only=params.open, limit=params.limit)
    ]


class IdentityPairDetailOut(IdentityPairOut):
    rows: list[dict[str, Any]]
    may_decide: bool
    may_undo: bool


@router.get("/pairs/{pair_id}", response={200: IdentityPairDetailOut, **RESPONSES})
@endpoint_requires(Action.DUPLICATE_VIEW)
def get_pair(request: HttpRequest, pair_id: uuid.UUID) -> object:
    """The two records side by side: each field on both sides, whether it agrees, and its
    contribution to the score."""
    view = pair_detail(caller(request), pair_id)
    if view is None:
        raise NotFound("pair_not_found", _("No such pair."))
    return {
        **_pair_out(view.pair),
        "rows": [
            {"field": label, "a": a, "b": b, "agrees": agrees, "contribution": weight}
            for label, a, b, agrees, weight in view.rows
        ],
        "may_decide": view.may_decide,
        "may_undo": view.may_undo,
    }


class IdentityEvidenceIn(Schema):
    name: str = Field(..., max_length=128)
    content_base64: str = Field(..., max_length=EVIDENCE_MAX_BYTES * 4 // 3 + 8)


class IdentityDecisionIn(Schema):
    decision: str = Field(..., pattern=r"^(same|not_same)$")
    attends: str = Field("", pattern=r"^(a|b|)$", description="whose school the child attends")
    note: str = Field("", max_length=500)
    evidence: list[IdentityEvidenceIn] = Field(default_factory=list, max_length=5)


def _uploads(items: list[IdentityEvidenceIn]) -> list[Upload]:
    uploads = []
    for item in items:
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise FieldErrors(
                {"evidence": [ValidationError(_("The file is not base64."), code="base64")]}
            ) from None
        uploads.append(Upload(name=item.name, content=content))
    return uploads


@router.post("/pairs/{pair_id}/decision", response={200: IdentityPairOut, **RESPONSES})
@endpoint_requires(Action.DUPLICATE_DECIDE)
def decide_pair(request: HttpRequest, pair_id: uuid.UUID, payload: IdentityDecisionIn) -> object:
    """Decide a pair: `same` (with `attends` and the evidence, 佐证, as base64 JPG/PNG/PDF)
    merges the records once every deciding county agrees; `not_same` is never proposed again."""
    pair = pair_decide(
        actor=caller(request),
        pair_id=pair_id,
        decision=payload.decision,
        attends=payload.attends,
        evidence=_uploads(payload.evidence),
        note=payload.note,
    )
    return _pair_out(pair)


@router.post("/pairs/{pair_id}/undo", response={200: IdentityPairOut, **RESPONSES})
@endpoint_requires(Action.DUPLICATE_DECIDE)
def undo_pair(request: HttpRequest, pair_id: uuid.UUID) -> object:
    """Undo a merge (the deciding area, within 30 days, unless a record moved since: 409)."""
    return _pair_out(pair_undo(actor=caller(request), pair_id=pair_id))


class IdentityScanIn(Schema):
    area_code: str = Field("", pattern=r"^([0-9]{6})?$")


class IdentityScanOut(Schema):
    records: int
    matches: int
    proposed: int
    seconds: float


@router.post("/scan", response={200: IdentityScanOut, **RESPONSES})
@endpoint_requires(Action.DUPLICATE_SCAN)
def scan_area(request: HttpRequest, payload: IdentityScanIn) -> object:
    """Run the duplicate scan for an area of yours (default: your whole area) against every
    record; new pairs are proposed."""
    actor = caller(request)
    scope = require(actor, Action.DUPLICATE_SCAN)
    area = payload.area_code or (scope.division_code or "")
    if scope.level != "nation" and not division_in_area(scope, area):
        raise NotFound("division_not_found", _("No such division in your area."))
    result = duplicate_scan(actor=actor, area_code="" if area == "000000" else area)
    return vars(result)


class IdentityUnrecordedParams(IdentityPageParams):
    state: str = ""


class IdentityUnrecordedOut(Schema):
    id: uuid.UUID
    county_code: str
    name: str
    sex: str
    birth_date: datetime.date
    id_number: str
    household_address: str
    state: str
    reason: str


def _unrecorded_out(row: UnrecordedChild) -> dict[str, Any]:
    entry = row.roll_entry
    return {
        "id": row.pk,
        "county_code": row.county_code,
        "name": entry.name,
        "sex": entry.sex,
        "birth_date": entry.birth_date,
        "id_number": entry.id_number_masked,
        "household_address": entry.household_address,
        "state": row.state,
        "reason": row.reason,
    }


@router.get("/unrecorded", response={200: list[IdentityUnrecordedOut], **COMMON_ERRORS})
@endpoint_requires(Action.UNRECORDED_VIEW)
def list_unrecorded(request: HttpRequest, params: Query[IdentityUnrecordedParams]) -> object:
    """有人无籍: children of compulsory age in the roll of your area with no record anywhere."""
    found = unrecorded_list(caller(request), state=params.state, page=params.page)
    return [_unrecorded_out(row) for row in found.object_list]


class IdentityUnrecordedDecisionIn(Schema):
    outcome: str = Field(..., pattern=r"^(found|exempted|handed_over)$")
    reason: str = Field("", max_length=500)


@router.post(
    "/unrecorded/{unrecorded_id}/decision", response={200: IdentityUnrecordedOut, **RESPONSES}
)
@endpoint_requires(Action.UNRECORDED_DECIDE)
def decide_unrecorded(
    request: HttpRequest, unrecorded_id: uuid.UUID, payload: IdentityUnrecordedDecisionIn
) -> object:
    """The county's outcome for a child with no record: found, exempted (with the reason) or
    handed to dropout control (a case is opened there)."""
    row = unrecorded_decide(
        actor=caller(request),
        unrecorded_id=unrecorded_id,
        outcome=payload.outcome,
        reason=payload.reason,
    )
    return _unrecorded_out(row)


class IdentityAnomalyParams(Schema):
    kind: str = ""


@router.get("/anomalies", response={200: dict[str, Any], **COMMON_ERRORS})
@endpoint_requires(Action.UNRECORDED_VIEW)
def list_anomalies(request: HttpRequest, params: Query[IdentityAnomalyParams]) -> object:
    """人籍分离 in your area: counts by kind and the records of one kind (numbers masked)."""
    found = anomalies(caller(request), kind=params.kind)
    return {
        "counts": found["counts"],
        "kind": found["kind"],
        "rows": [
            {
                "student_id": str(row.student.pk),
                "number": row.student.number_masked,
                "school": row.student.school.name,
                "household": row.household,
                "migrant_child": row.student.migrant_child,
            }
            for row in found["rows"]
        ],
    }


# ---- the province's settings ---------------------------------------------------------------------


class IdentitySettingsOut(Schema):
    province_code: str
    population_check: bool
    county_review: bool
    changed_at: datetime.datetime | None


class IdentitySettingsIn(Schema):
    population_check: bool
    county_review: bool | None = Field(
        None, description="县级审核: new registrations wait for the county (unchanged if absent)"
    )


def _settings_out(request: HttpRequest) -> dict[str, Any]:
    scope = require(caller(request), Action.IDENTITY_SETTINGS)
    province = (scope.division_code or "")[:2] + "0000"
    rule = ProvinceIdentityRule.objects.filter(province_code=province).first()
    return {
        "province_code": province,
        "population_check": bool(rule and rule.population_check),
        "county_review": bool(rule and rule.county_review),
        "changed_at": rule.changed_at if rule else None,
    }


@router.get("/settings", response={200: IdentitySettingsOut, **COMMON_ERRORS})
@endpoint_requires(Action.IDENTITY_SETTINGS)
def get_identity_settings(request: HttpRequest) -> object:
    """Your province's identity settings: the population check (L numbers) and the county
    review of new registrations before their number (县级审核)."""
    return _settings_out(request)


@router.post("/settings", response={200: IdentitySettingsOut, **RESPONSES})
@endpoint_requires(Action.IDENTITY_SETTINGS)
def set_identity_settings(request: HttpRequest, payload: IdentitySettingsIn) -> object:
    """Change your province's identity settings (audited with before and after)."""
    identity_rule_set(
        actor=caller(request),
        population_check=payload.population_check,
        county_review=payload.county_review,
    )
    return _settings_out(request)


# ---- 县级审核: the county's review of new registrations --------------------------------------


class IdentityReviewParams(IdentityPageParams):
    state: str = Field(
        "", description="waiting, returned, approved, withdrawn (empty: waiting for a county)"
    )
    school: int | None = Field(None, ge=1, le=2_000_000_000)
    q: str = Field("", max_length=64, description="name or pinyin prefix")


class IdentityReviewPairOut(Schema):
    pair_id: uuid.UUID
    other_student: uuid.UUID
    other_name: str
    other_number: str
    other_school: str
    score: float
    contributions: dict[str, float]


class IdentityReviewOut(Schema):
    registration_id: uuid.UUID
    name: str
    sex: str
    birth_date: datetime.date
    id_number: str
    school: str
    school_class_id: int
    start_date: datetime.date
    state: str
    reason: str
    rounds: int
    submitted_at: datetime.datetime
    number: str
    identity_status: str
    identity_differing: list[str]
    pairs: list[IdentityReviewPairOut]


def _review_out(row: ReviewRow) -> dict[str, Any]:
    student, review = row.student, row.review
    pairs = []
    for pair in row.pairs:
        other = pair.student_b if pair.student_a_id == student.pk else pair.student_a
        pairs.append(
            {
                "pair_id": pair.pk,
                "other_student": other.pk,
                "other_name": other.name,
                "other_number": other.number_masked,
                "other_school": other.school.name,
                "score": pair.score,
                "contributions": pair.contributions,
            }
        )
    return {
        "registration_id": student.pk,
        "name": student.name,
        "sex": student.sex,
        "birth_date": student.birth_date,
        "id_number": student.id_number_masked,
        "school": student.school.name,
        "school_class_id": review.school_class_id,
        "start_date": review.start_date,
        "state": review.state,
        "reason": review.reason,
        "rounds": review.rounds,
        "submitted_at": review.submitted_at,
        "number": student.number_masked,
        "identity_status": row.identity.status if row.identity else "not_checked",
        "identity_differing": row.identity.differing if row.identity else [],
        "pairs": pairs,
    }


@router.get("/reviews", response={200: list[IdentityReviewOut], **COMMON_ERRORS})
@endpoint_requires(Action.REGISTRATION_REVIEW)
def list_reviews(request: HttpRequest, params: Query[IdentityReviewParams]) -> object:
    """Your county's new registrations under review (县级审核), oldest first, each with its
    identity status and the duplicate pairs it is in (default: those waiting)."""
    _found, rows = review_list(
        caller(request),
        state=params.state or ReviewState.WAITING,
        school_id=params.school,
        q=params.q,
        page=params.page,
    )
    return [_review_out(row) for row in rows]


def _one_review(request: HttpRequest, registration_id: uuid.UUID, action: str) -> dict[str, Any]:
    detail = review_detail(caller(request), registration_id, action=action)
    if detail is None:
        raise NotFound("registration_not_found", _("No such registration."))
    return _review_out(detail[0])


@router.get("/reviews/{registration_id}", response={200: IdentityReviewOut, **RESPONSES})
@endpoint_requires(Action.REGISTRATION_REVIEW)
def get_review(request: HttpRequest, registration_id: uuid.UUID) -> object:
    """One registration of your county under review."""
    return _one_review(request, registration_id, Action.REGISTRATION_REVIEW)


@router.post("/reviews/{registration_id}/approve", response={200: IdentityReviewOut, **RESPONSES})
@endpoint_requires(Action.REGISTRATION_REVIEW)
def approve_registration(request: HttpRequest, registration_id: uuid.UUID) -> object:
    """Approve a registration waiting for your county: its student number is issued now (G, L
    or J as for any registration) and its placement opens. 409 `registration_not_waiting` when
    it is not waiting (approved already by someone else, returned, withdrawn)."""
    registration_approve(actor=caller(request), student_id=registration_id)
    return _one_review(request, registration_id, Action.REGISTRATION_REVIEW)


class IdentityReasonIn(Schema):
    reason: str = Field("", max_length=500)


@router.post("/reviews/{registration_id}/return", response={200: IdentityReviewOut, **RESPONSES})
@endpoint_requires(Action.REGISTRATION_REVIEW)
def return_registration(
    request: HttpRequest, registration_id: uuid.UUID, payload: IdentityReasonIn
) -> object:
    """Return a registration to its school with the reason (400 `fields.reason` without one)."""
    registration_return(actor=caller(request), student_id=registration_id, reason=payload.reason)
    return _one_review(request, registration_id, Action.REGISTRATION_REVIEW)


@router.get("/registrations", response={200: list[IdentityReviewOut], **COMMON_ERRORS})
@endpoint_requires(Action.STUDENT_REGISTER)
def list_registrations(request: HttpRequest, params: Query[IdentityReviewParams]) -> object:
    """Your school's registrations under the county's review (any state unless `state`)."""
    _found, rows = review_list(
        caller(request),
        action=Action.STUDENT_REGISTER,
        state=params.state or "all",
        school_id=params.school,
        q=params.q,
        page=params.page,
    )
    return [_review_out(row) for row in rows]


class IdentityResubmitIn(Schema):
    name: str = Field("", max_length=64)
    sex: str = Field("", max_length=1)
    birth_date: str = Field("", max_length=10, description="YYYY-MM-DD")
    id_doc_type: str = Field("", max_length=1)
    id_number: str = Field("", max_length=32)
    birthplace_code: str = Field("", max_length=6)
    ethnicity: str = Field("", max_length=2)
    hukou_division_code: str = Field("", max_length=6)


@router.post(
    "/registrations/{registration_id}/resubmit", response={200: IdentityReviewOut, **RESPONSES}
)
@endpoint_requires(Action.STUDENT_REGISTER)
def resubmit_registration(
    request: HttpRequest, registration_id: uuid.UUID, payload: IdentityResubmitIn
) -> object:
    """Correct a returned registration (the fields given; empty: unchanged), checked with the
    rules of registration (400 naming each field), and send it to the county again."""
    _one_review(request, registration_id, Action.STUDENT_REGISTER)  # 404 outside your school
    registration_resubmit(
        actor=caller(request),
        student_id=registration_id,
        changes=resubmitted_changes(payload.dict()),
    )
    return _one_review(request, registration_id, Action.STUDENT_REGISTER)


@router.post(
    "/registrations/{registration_id}/withdraw", response={200: IdentityReviewOut, **RESPONSES}
)
@endpoint_requires(Action.STUDENT_REGISTER)
def withdraw_registration(
    request: HttpRequest, registration_id: uuid.UUID, payload: IdentityReasonIn
) -> object:
    """Withdraw a registration the county has not approved, with the reason: no number is
    issued, the document is free again."""
    registration_withdraw(actor=caller(request), student_id=registration_id, reason=payload.reason)
    return _one_review(request, registration_id, Action.STUDENT_REGISTER)
