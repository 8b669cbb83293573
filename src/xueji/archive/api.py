"""The archive's REST endpoints (mounted at /api/archive/): a child's growth record, its writes by
those who may, and the certificates of registration (issue, withdraw, list)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.archive.models import Certificate
from xueji.archive.selectors import archive_of, certificates_page
from xueji.archive.services.certificates import certificate_issue, certificate_revoke
from xueji.archive.services.growth import (
    conduct_add,
    conduct_lift,
    counts,
    factual_record_add,
    health_check_add,
    term_report_save,
    vaccination_add,
)
from xueji.core.api import COMMON_ERRORS, ErrorOut, caller
from xueji.core.errors import NotFound

router = Router(tags=["archive"])


class CertificateOut(Schema):
    id: uuid.UUID
    student_id: uuid.UUID
    issued_at: datetime.datetime
    requested_by: str
    facts: dict[str, Any]
    signature: str
    valid: bool
    revoke_cause: str
    revoke_reason: str
    verify_path: str

    @staticmethod
    def resolve_verify_path(obj: Certificate) -> str:
        return f"/certificates/v/{obj.token}/"


class IssueIn(Schema):
    student_id: uuid.UUID
    requested_by: str = Field(..., max_length=200, description="The guardian who asked for it.")
    province_years: bool = Field(
        False,
        description="State the continuous years of enrolment in the school's province "
        "(suspensions and hollow periods left out).",
    )


class RevokeIn(Schema):
    reason: str = Field(..., max_length=400)


LEVEL = Field("", pattern="^[ABCD]?$", description="A, B, C, D or empty")


class TermReportIn(Schema):
    term: int = Field(..., ge=1, le=2_147_483_647, description="The term's id.")
    comment: str = Field("", max_length=500)
    moral: str = LEVEL
    academic: str = LEVEL
    health: str = LEVEL
    arts: str = LEVEL
    social: str = LEVEL


class FactualIn(Schema):
    term: int = Field(..., ge=1, le=2_147_483_647, description="The term's id.")
    dimension: str = Field(..., description="moral, academic, health, arts or social")
    title: str = Field(..., max_length=100)
    description: str = Field("", max_length=500)
    occurred_on: datetime.date
    source: str = Field(..., description="pupil or parent: who brought it")


class ConductIn(Schema):
    kind: str = Field(..., description="award or sanction")
    level: str = Field(
        "",
        description="A sanction's level: warning, serious_warning, demerit, probation "
        "(expulsion is refused in compulsory education); empty for an award.",
    )
    title: str = Field(..., max_length=100)
    decided_on: datetime.date
    issuer: str = Field(..., max_length=100)
    evidence: str = Field(..., max_length=200, description="A document number or description.")


class HealthIn(Schema):
    checked_on: datetime.date
    height_cm: str = Field(..., max_length=8, description="30.1 to 249.9")
    weight_kg: str = Field(..., max_length=8, description="5.1 to 249.9")
    vision_left: str = Field("", max_length=4, description="3.0 to 5.3, or empty")
    vision_right: str = Field("", max_length=4, description="3.0 to 5.3, or empty")
    notes: str = Field("", max_length=200)


class VaccinationIn(Schema):
    vaccine: str = Field(..., max_length=64)
    dose: int = Field(..., ge=1, le=9)
    given_on: datetime.date


class CreatedOut(Schema):
    id: str


class ArchiveOut(Schema):
    student_id: uuid.UUID
    name: str
    whole: bool
    placements: list[dict[str, Any]]
    term_reports: list[dict[str, Any]]
    factual_records: list[dict[str, Any]]
    conduct: list[dict[str, Any]]
    health_checks: list[dict[str, Any]]
    vaccinations: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    fitness: list[dict[str, Any]]
    aid: list[dict[str, Any]]


def _no_such_student() -> NotFound:
    return NotFound("student_not_found", _("No such student in your area."))


@router.get("/students/{student_id}", response={200: ArchiveOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.ARCHIVE_VIEW)
def get_archive(request: HttpRequest, student_id: uuid.UUID) -> object:
    """A child's growth record as you may see it: every school's parts where the child is in
    your area now, only your school's where the child has left it."""
    archive = archive_of(caller(request), student_id)
    if archive is None:
        raise _no_such_student()
    return {
        "student_id": archive.student.pk,
        "name": archive.student.name,
        "whole": archive.whole,
        "placements": [
            {
                "school": p.school.name,
                "class": p.school_class.name,
                "grade": p.grade,
                "from": p.start_date,
                "until": p.end_date,
            }
            for p in archive.placements
        ],
        "term_reports": [
            {
                "term": r.term_id,
                "comment": r.comment,
                "levels": {
                    d: getattr(r, d) for d in ("moral", "academic", "health", "arts", "social")
                },
            }
            for r in archive.term_reports
        ],
        "factual_records": [
            {
                "id": str(r.pk),
                "dimension": r.dimension,
                "title": r.title,
                "occurred_on": r.occurred_on,
                "source": r.source,
                "notice_until": r.notice_until,
                "counts": counts(r),
            }
            for r in archive.factual_records
        ],
        "conduct": [
            {
                "id": str(c.pk),
                "kind": c.kind,
                "level": c.level,
                "title": c.title,
                "decided_on": c.decided_on,
                "issuer": c.issuer,
                "evidence": c.evidence,
                "lifted_on": c.lifted_on,
            }
            for c in archive.conduct
        ],
        "health_checks": [
            {
                "checked_on": h.checked_on,
                "height_cm": str(h.height_cm),
                "weight_kg": str(h.weight_kg),
            }
            for h in archive.health_checks
        ],
        "vaccinations": [
            {"vaccine": v.vaccine, "dose": v.dose, "given_on": v.given_on}
            for v in archive.vaccinations
        ],
        "scores": [
            {"term": s.term_id, "subject": s.subject, "kind": s.kind, "score": str(s.score)}
            for s in archive.scores
        ],
        "fitness": [
            {
                "school_year": f.start_year,
                "kind": f.kind,
                "exempt": f.exempt,
                "item_scores": f.item_scores,
                "standard_score": None if f.standard_score is None else str(f.standard_score),
                "bonus": str(f.bonus),
                "total": None if f.total is None else str(f.total),
                "level": f.level,
            }
            for f in archive.fitness
        ],
        "aid": archive.aid,
    }


def _created(obj: Any) -> object:
    return Status(201, {"id": str(obj.pk)})


WRITE_ERRORS = {201: CreatedOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}


@router.post("/students/{student_id}/term-reports", response=WRITE_ERRORS)
@endpoint_requires(Action.GROWTH_WRITE)
def save_term_report(request: HttpRequest, student_id: uuid.UUID, payload: TermReportIn) -> object:
    """The class teacher's comment and 综合素质评价 of a term: term (id), comment, and the levels
    moral, academic, health, arts, social (A–D)."""
    return _created(
        term_report_save(actor=caller(request), student_id=student_id, data=payload.dict())
    )


@router.post("/students/{student_id}/factual-records", response=WRITE_ERRORS)
@endpoint_requires(Action.GROWTH_WRITE)
def add_factual_record(request: HttpRequest, student_id: uuid.UUID, payload: FactualIn) -> object:
    """A factual record (写实记录) brought by the pupil or a parent (source), entered by the class
    teacher: term, dimension, title, description, occurred_on."""
    return _created(
        factual_record_add(actor=caller(request), student_id=student_id, data=payload.dict())
    )


@router.post("/students/{student_id}/conduct", response=WRITE_ERRORS)
@endpoint_requires(Action.CONDUCT_RECORD)
def add_conduct(request: HttpRequest, student_id: uuid.UUID, payload: ConductIn) -> object:
    """An award or a sanction (奖惩): kind, level (sanctions), title, decided_on, issuer,
    evidence. Expulsion is refused in compulsory education."""
    return _created(conduct_add(actor=caller(request), student_id=student_id, data=payload.dict()))


@router.post("/conduct/{conduct_id}/lift", response=WRITE_ERRORS)
@endpoint_requires(Action.CONDUCT_RECORD)
def lift_conduct(request: HttpRequest, conduct_id: uuid.UUID, payload: RevokeIn) -> object:
    """Lift (解除) a sanction of your school, with the reason."""
    return _created(
        conduct_lift(actor=caller(request), conduct_id=conduct_id, reason=payload.reason)
    )


@router.post("/students/{student_id}/health-checks", response=WRITE_ERRORS)
@endpoint_requires(Action.HEALTH_RECORD)
def add_health_check(request: HttpRequest, student_id: uuid.UUID, payload: HealthIn) -> object:
    """A health check-up: checked_on, height_cm, weight_kg, vision_left, vision_right, notes."""
    return _created(
        health_check_add(actor=caller(request), student_id=student_id, data=payload.dict())
    )


@router.post("/students/{student_id}/vaccinations", response=WRITE_ERRORS)
@endpoint_requires(Action.HEALTH_RECORD)
def add_vaccination(request: HttpRequest, student_id: uuid.UUID, payload: VaccinationIn) -> object:
    """A vaccination dose: vaccine, dose, given_on."""
    return _created(
        vaccination_add(actor=caller(request), student_id=student_id, data=payload.dict())
    )


@router.get("/certificates", response={200: list[CertificateOut], **COMMON_ERRORS})
@endpoint_requires(Action.CERTIFICATE_ISSUE)
def list_certificates(request: HttpRequest, page: int = 1) -> object:
    """The certificates your school issued, newest first, 50 a page."""
    return list(certificates_page(caller(request), page=max(1, min(page, 100000))).object_list)


@router.post(
    "/certificates", response={201: CertificateOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}
)
@endpoint_requires(Action.CERTIFICATE_ISSUE)
def issue_certificate(request: HttpRequest, payload: IssueIn) -> object:
    """Issue a certificate of registration (学籍证明) for a child of your school on a guardian's
    request; the facts are signed (Ed25519) and the answer gives the public page's path."""
    return Status(
        201,
        certificate_issue(
            actor=caller(request),
            student_id=payload.student_id,
            requested_by=payload.requested_by,
            with_province_years=payload.province_years,
        ),
    )


@router.post(
    "/certificates/{certificate_id}/revoke",
    response={200: CertificateOut, 404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.CERTIFICATE_REVOKE)
def revoke_certificate(
    request: HttpRequest, certificate_id: uuid.UUID, payload: RevokeIn
) -> object:
    """Withdraw a certificate of your school, giving the reason: its public page says revoked."""
    return certificate_revoke(
        actor=caller(request), certificate_id=certificate_id, reason=payload.reason
    )
