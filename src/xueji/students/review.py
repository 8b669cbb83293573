"""The county's review of a new registration before its number is issued (县级审核).

Where the province requires it (a setting of xueji.identity, asked through
`xueji.students.numbering.review_required`), a registration creates the record with no student
number and no placement, in the state `pending_review`, once the document is known to be free;
the identity check and the duplicate check run as for every registration (identity's hooks). The
county of the school then approves it (the number is issued then, G, L or J by the same rules as
an unreviewed registration, and the placement opens) or returns it with a reason; the registrar
corrects the basic information and sends it again, or withdraws it (the record keeps its history
and frees its document).

The students app alone writes the record's state and number: these services are what identity's
pages and API call. Each runs in one transaction with its audit entry and a record event.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import may_register_at, require
from xueji.audit.services import audit_record
from xueji.core import codes
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.core.idnumbers import g_number
from xueji.schools.models import SchoolClass
from xueji.students.identity import STUDENT_ID_NUMBER, document_fields, student_number_fields
from xueji.students.models import (
    EventKind,
    NumberKind,
    PlacementReason,
    RecordState,
    RegistrationReview,
    ReviewState,
    Student,
)
from xueji.students.numbering import (
    after_registration,
    after_withdrawal,
    student_number_allocate_l,
    temporary_number_required,
)
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.record import placement_open, record_event_append

# The basic information a registrar may correct on a returned registration (StudentData's names).
CORRECTABLE_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "birthplace_code",
    "native_place_code",
    "ethnicity",
    "nationality",
    "id_doc_type",
    "id_number",
    "overseas_status",
    "health",
    "hukou_division_code",
    "hukou_nature",
)
# StudentData's names that the model spells as foreign keys.
_MODEL_FIELD = {
    "birthplace_code": "birthplace_id",
    "native_place_code": "native_place_id",
    "hukou_division_code": "hukou_division_id",
}
REASON_MAX = 500


def registration_review_open(
    *,
    actor: Any,
    student: Student,
    school_class: SchoolClass,
    start_date: datetime.date,
    age_note: str,
) -> RegistrationReview:
    """Inside student_register's transaction: the new record waits for its county's review."""
    review = RegistrationReview.objects.create(
        student=student,
        county_code=school_class.school.county_id,
        school_class=school_class,
        start_date=start_date,
        age_note=age_note[:REASON_MAX],
        submitted_at=timezone.now(),
    )
    record_event_append(
        student=student,
        kind=EventKind.REGISTRATION_SUBMITTED,
        on=timezone.localdate(),
        actor=actor,
        detail={
            "school": school_class.school.code,
            "class": school_class.pk,
            "grade": school_class.grade,
            "start_date": start_date.isoformat(),
            "age_confirmation": age_note,
        },
    )
    after_registration(student)  # identity: the identity check and the duplicate check
    audit_record(
        actor=actor,
        action="student.register",
        object_type="student",
        object_id=student.pk,
        detail={
            "school": school_class.school.code,
            "class": school_class.pk,
            "age_note": age_note,
            "county_review": True,
        },
    )
    return review


def _county_review(actor: Any, student_id: Any) -> tuple[Student, RegistrationReview]:
    """The record and its review, locked, for the county approver of the school's county (a
    registration of another county, or a school's account, is refused as not found / 403)."""
    scope = require(actor, Action.REGISTRATION_REVIEW)
    if scope.level != ScopeLevel.COUNTY:
        raise NotFound("registration_not_found", _("No such registration in your county."))
    review = (
        RegistrationReview.objects.select_for_update()
        .filter(student_id=student_id, county_code=scope.division_code or "-")
        .first()
    )
    if review is None:
        raise NotFound("registration_not_found", _("No such registration in your county."))
    student = Student.objects.select_for_update().select_related("school").get(pk=student_id)
    return student, review


def _school_review(actor: Any, student_id: Any) -> tuple[Student, RegistrationReview]:
    """The record and its review, locked, for the registrar of the record's school."""
    scope = require(actor, Action.STUDENT_REGISTER)
    review = RegistrationReview.objects.select_for_update().filter(student_id=student_id).first()
    if review is None:
        raise NotFound("registration_not_found", _("No such registration at your school."))
    student = Student.objects.select_for_update().select_related("school").get(pk=student_id)
    if not may_register_at(scope, student.school_id):
        raise NotFound("registration_not_found", _("No such registration at your school."))
    return student, review


def _refuse_unless(review: RegistrationReview, *states: str) -> None:
    if review.state not in states:
        raise Conflict(
            "registration_not_waiting",
            _("This registration is %(state)s: it cannot be changed that way now.")
            % {"state": review.get_state_display()},
            state=review.state,
        )


def _reason(reason: str, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise FieldErrors({field: [ValidationError(_("Give the reason."), code="required")]})
    if len(text) > REASON_MAX:
        raise FieldErrors(
            {
                field: [
                    ValidationError(
                        _("At most %(count)d characters.") % {"count": REASON_MAX},
                        code="too_long",
                    )
                ]
            }
        )
    return text


def registration_approve(*, actor: Any, student_id: Any) -> Student:
    """The county approves a registration waiting for it: the number is issued now (G, or L
    where the population check wants it, or J without a resident ID), the placement opens in
    the class and on the date the registrar chose. Two reviewers at once issue one number: the
    review row is locked, the second finds it approved."""
    from xueji.students.national import national_reserve
    from xueji.students.services import student_data_of, student_number_allocate_j

    with transaction.atomic():
        student, review = _county_review(actor, student_id)
        _refuse_unless(review, ReviewState.WAITING)
        school = student.school
        if student.id_doc_type == codes.IdDocType.RESIDENT_ID:
            data = student_data_of(student)
            if temporary_number_required(school, data):  # population check (identity)
                number = student_number_allocate_l(school.county_id, student.birth_date)
                kind = NumberKind.L
            else:
                number, kind = g_number(data.id_number), NumberKind.G
        else:
            number = student_number_allocate_j(school.county_id, student.birth_date)
            kind = NumberKind.J
        for field, value in student_number_fields(number).items():
            setattr(student, field, value)
        student.number_kind = kind
        student.state = RecordState.ENROLLED
        student.save(
            update_fields=[
                "number_masked",
                "number_sealed",
                "number_index",
                "number_kind",
                "state",
                "updated_at",
            ]
        )
        national_reserve(student=student)  # the number, nationally (L if the hub is away)
        school_class = review.school_class
        placement_open(
            student=student,
            school_class=school_class,
            on=review.start_date,
            reason=PlacementReason.REGISTRATION,
        )
        record_event_append(
            student=student,
            kind=EventKind.REGISTERED,
            on=review.start_date,
            actor=actor,
            detail={
                "school": school.code,
                "class": school_class.pk,
                "grade": school_class.grade,
                "age_confirmation": review.age_note,
                "county_review": review.county_code,
                "number": student.number_masked,
            },
        )
        review.state = ReviewState.APPROVED
        review.decided_by = actor
        review.decided_at = timezone.now()
        review.save(update_fields=["state", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="registration.approve",
            object_type="student",
            object_id=student.pk,
            detail={"number": student.number_masked, "kind": kind, "rounds": review.rounds},
        )
    return student


def registration_return(*, actor: Any, student_id: Any, reason: str) -> RegistrationReview:
    """The county returns a registration to its school with the reason (what to correct)."""
    with transaction.atomic():
        student, review = _county_review(actor, student_id)
        text = _reason(reason)
        _refuse_unless(review, ReviewState.WAITING)
        review.state = ReviewState.RETURNED
        review.reason = text
        review.decided_by = actor
        review.decided_at = timezone.now()
        review.save(update_fields=["state", "reason", "decided_by", "decided_at"])
        record_event_append(
            student=student,
            kind=EventKind.REGISTRATION_RETURNED,
            on=timezone.localdate(),
            actor=actor,
            detail={"reason": text},
        )
        audit_record(
            actor=actor,
            action="registration.return",
            object_type="student",
            object_id=student.pk,
            detail={"reason": text, "round": review.rounds},
        )
    return review


def _shown(field: str, value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def registration_resubmit(*, actor: Any, student_id: Any, changes: dict[str, Any]) -> Student:
    """The registrar corrects a returned registration's basic information (checked with the
    rules of registration) and sends it to the county again; the identity and duplicate checks
    run again."""
    from xueji.students.services import (
        _HeldElsewhere,
        _holder_of,
        _holder_refusal,
        validate_changes,
    )

    unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
    try:
        with transaction.atomic():
            student, review = _school_review(actor, student_id)
            if unknown:
                raise FieldErrors(
                    {
                        name: [
                            ValidationError(
                                _("This field cannot be corrected here."), code="unknown"
                            )
                        ]
                        for name in unknown
                    }
                )
            _refuse_unless(review, ReviewState.RETURNED)
            data = validate_changes(student, dict(changes))
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            current = {
                "name": student.name,
                "sex": student.sex,
                "birth_date": student.birth_date,
                "birthplace_code": student.birthplace_id or "",
                "native_place_code": student.native_place_id or "",
                "ethnicity": student.ethnicity,
                "nationality": student.nationality,
                "id_doc_type": student.id_doc_type,
                "id_number": student.reveal_id_number(),
                "overseas_status": student.overseas_status,
                "health": student.health,
                "hukou_division_code": student.hukou_division_id or "",
                "hukou_nature": student.hukou_nature,
            }
            for name in CORRECTABLE_FIELDS:
                new = getattr(data, name)
                if new != current[name]:
                    masked = name == "id_number"
                    before[name] = (
                        student.id_number_masked if masked else _shown(name, current[name])
                    )
                    after[name] = "(changed)" if masked else _shown(name, new)
            document_changed = "id_number" in after or "id_doc_type" in after
            if document_changed and data.id_doc_type == codes.IdDocType.RESIDENT_ID:
                holder = _holder_of(data.id_doc_type, data.id_number, exclude=student.pk)
                if holder is not None:
                    raise _HeldElsewhere(holder, name=data.name, id_number=data.id_number)
            for name in CORRECTABLE_FIELDS:
                if name in ("id_number", "id_doc_type"):
                    continue
                value = getattr(data, name)
                if name in _MODEL_FIELD:
                    value = value or None
                setattr(student, _MODEL_FIELD.get(name, name), value)
            student.name_pinyin = name_pinyin(student.name)
            student.name_initials = name_initials(student.name)
            student.id_doc_type = data.id_doc_type
            for field, value in document_fields(
                data.id_doc_type, data.id_number, context=STUDENT_ID_NUMBER
            ).items():
                setattr(student, field, value)
            if "id_number" in after:
                after["id_number"] = student.id_number_masked
            try:
                with transaction.atomic():
                    student.save()
            except IntegrityError:
                holder = _holder_of(data.id_doc_type, data.id_number, exclude=student.pk)
                if holder is None:
                    raise
                raise _HeldElsewhere(holder, name=data.name, id_number=data.id_number) from None
            review.state = ReviewState.WAITING
            review.rounds += 1
            review.reason = ""
            review.submitted_at = timezone.now()
            review.save(update_fields=["state", "rounds", "reason", "submitted_at"])
            record_event_append(
                student=student,
                kind=EventKind.REGISTRATION_RESUBMITTED,
                on=timezone.localdate(),
                actor=actor,
                detail={"fields": sorted(after), "round": review.rounds},
            )
            after_registration(student)  # identity: checked again
            audit_record(
                actor=actor,
                action="registration.resubmit",
                object_type="student",
                object_id=student.pk,
                before=before,
                after=after,
                detail={"round": review.rounds},
            )
    except _HeldElsewhere as held:
        raise _holder_refusal(
            actor=actor,
            holder=held.holder,
            name=held.name,
            id_doc_type=codes.IdDocType.RESIDENT_ID,
            id_number=held.id_number,
        ) from None
    return student


def registration_withdraw(*, actor: Any, student_id: Any, reason: str) -> Student:
    """The registrar withdraws a registration the county has not approved: the record keeps
    its history, holds no document any more (the child can be registered or transferred in
    later), and the open duplicate pairs it was in are closed (identity's hook)."""
    with transaction.atomic():
        student, review = _school_review(actor, student_id)
        text = _reason(reason)
        _refuse_unless(review, ReviewState.WAITING, ReviewState.RETURNED)
        student.state = RecordState.REGISTRATION_WITHDRAWN
        student.id_number_index = ""
        student.save(update_fields=["state", "id_number_index", "updated_at"])
        review.state = ReviewState.WITHDRAWN
        review.reason = text
        review.decided_by = actor
        review.decided_at = timezone.now()
        review.save(update_fields=["state", "reason", "decided_by", "decided_at"])
        record_event_append(
            student=student,
            kind=EventKind.REGISTRATION_WITHDRAWN,
            on=timezone.localdate(),
            actor=actor,
            detail={"reason": text},
        )
        after_withdrawal(student)
        audit_record(
            actor=actor,
            action="registration.withdraw",
            object_type="student",
            object_id=student.pk,
            detail={"reason": text},
        )
    return student
