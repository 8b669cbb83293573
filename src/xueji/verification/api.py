"""API of the guardians' record check sheets (核对表) for the school's registrar, as its pages
(/verification/guardian-sheets/): the classes of the school year with how many sheets came back
confirmed, with corrections, or not yet; and a returned sheet recorded as confirmed, or with the
corrections it carries (other information and family contacts at once, key data as a correction
request with the scanned sheet), all or nothing, every bad field named. The sheets themselves are
printed from the page."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused
from xueji.changes.api import FileIn, upload_of
from xueji.core.api import COMMON_ERRORS, ErrorOut, caller
from xueji.core.errors import FieldErrors
from xueji.verification.selectors import guardian_classes
from xueji.verification.services import guardian_check_record

router = Router(tags=["verification"])

ERRORS: dict[int, Any] = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}


class GuardianClassOut(Schema):
    class_id: int
    name: str
    grade: int
    students: int
    confirmed: int
    corrected: int
    waiting: int = Field(description="Sheets not returned yet this school year")


class GuardianClassesOut(Schema):
    school_id: int
    year: int
    classes: list[GuardianClassOut]


class ContactIn(Schema):
    phone: str = Field("", max_length=20)
    employer: str = Field("", max_length=128)


class GuardianCheckIn(Schema):
    outcome: Literal["confirmed", "corrected"]
    signed_by: str = Field("", max_length=64, description="The guardian's name as signed")
    note: str = Field("", max_length=1000)
    basic: dict[str, str] = Field(
        default_factory=dict,
        description="Key data as the guardian corrected them (name, sex, birth_date, …): a "
        "correction request, which needs `reason` and the scanned sheet in `evidence`",
    )
    other: dict[str, str | bool | None] = Field(
        default_factory=dict, description="Other information corrected (changed at once)"
    )
    contacts: dict[str, ContactIn] = Field(
        default_factory=dict,
        description="Family members' phone and employer, by the member's ordinal (0, 1, …)",
    )
    reason: str = Field("", max_length=2000)
    evidence: list[FileIn] = Field(default_factory=list, max_length=5)


class GuardianCheckOut(Schema):
    id: uuid.UUID
    student_id: uuid.UUID
    outcome: str
    changed_fields: list[str]
    correction_id: uuid.UUID | None
    recorded_at: datetime.datetime


@router.get(
    "/guardian-sheets",
    response={200: GuardianClassesOut, **ERRORS},
    summary="The classes' record check sheets returned",
)
@endpoint_requires(Action.GUARDIAN_CHECK)
def guardian_sheets_list(request: HttpRequest) -> dict[str, Any]:
    """Your school's classes of the school year, each with its children's sheets returned
    confirmed, with corrections, and not yet."""
    found = guardian_classes(caller(request))
    if found is None:
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    school, year, rows = found
    return {
        "school_id": school.pk,
        "year": year,
        "classes": [
            {
                "class_id": row.school_class.pk,
                "name": row.school_class.name,
                "grade": row.school_class.grade,
                "students": row.students,
                "confirmed": row.confirmed,
                "corrected": row.corrected,
                "waiting": row.waiting,
            }
            for row in rows
        ],
    }


def _ordinal(key: str) -> int:
    if not key.isdigit() or not 0 <= int(key) <= 99:
        raise FieldErrors(
            {"contacts": [ValidationError(_("This value is not allowed here."), code="invalid")]}
        )
    return int(key)


@router.post(
    "/students/{uuid:student_id}/guardian-check",
    response={201: GuardianCheckOut, **ERRORS},
    summary="Record a child's returned check sheet",
)
@endpoint_requires(Action.GUARDIAN_CHECK)
def guardian_check_add(
    request: HttpRequest, student_id: uuid.UUID, body: GuardianCheckIn
) -> Status[dict[str, Any]]:
    """Confirmed, or corrected: only values that differ from the record count; 400 names every
    bad field and writes nothing (`no_correction` when nothing differs). A child of another
    school answers 404."""
    confirmed = body.outcome == "confirmed"
    if confirmed:
        check = guardian_check_record(
            actor=caller(request),
            student_id=student_id,
            confirmed=True,
            signed_by=body.signed_by,
            note=body.note,
        )
    else:
        evidence = [
            upload_of(file, f"evidence.{index}") for index, file in enumerate(body.evidence)
        ]
        check = guardian_check_record(
            actor=caller(request),
            student_id=student_id,
            confirmed=False,
            signed_by=body.signed_by,
            note=body.note,
            basic=dict(body.basic),
            other=dict(body.other),
            contacts={_ordinal(key): contact.dict() for key, contact in body.contacts.items()},
            reason=body.reason,
            evidence=[upload for upload in evidence if upload is not None],
        )
    return Status(
        201,
        {
            "id": check.pk,
            "student_id": check.student_id,
            "outcome": check.outcome,
            "changed_fields": list(check.changed_fields),
            "correction_id": check.correction_id,
            "recorded_at": check.recorded_at,
        },
    )
