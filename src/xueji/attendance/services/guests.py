"""Guests (借读, 人籍分离): a child registered at school A attending a class of school B. B's
registrar records it; the child is then on B's class roll (present unless marked absent) while
the record stays at A; both counties see it (xueji.attendance.overview.hollow_and_guests)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.attendance.models import Guest
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import SchoolClass
from xueji.students.identity import number_indexes
from xueji.students.models import RecordState, Student


def _field(name: str, message: Any, code: str) -> FieldErrors:
    return FieldErrors({name: [ValidationError(message, code=code)]})


def guest_add(
    *,
    actor: Any,
    student_number: str,
    school_class_id: int,
    start_date: datetime.date | None = None,
) -> Guest:
    scope = require(actor, Action.ATTENDANCE_CORRECT)
    school_class = SchoolClass.objects.filter(pk=school_class_id).first()
    if (
        school_class is None
        or scope.level != ScopeLevel.SCHOOL
        or school_class.school_id != scope.school_id
    ):
        raise _field("school_class", _("Choose a class of your school."), "unknown")
    number = student_number.strip().upper()
    student = (
        Student.objects.filter(number_index__in=number_indexes(number)).first() if number else None
    )
    if student is None:
        raise _field("student_number", _("No student with this number."), "unknown")
    if student.state != RecordState.ENROLLED:
        raise _field("student_number", _("The child is not enrolled anywhere."), "not_enrolled")
    if student.school_id == school_class.school_id:
        raise _field(
            "student_number", _("The child is registered at this school already."), "own_school"
        )
    start = start_date or timezone.localdate()
    try:
        with transaction.atomic():
            guest = Guest.objects.create(
                student=student,
                school_class=school_class,
                school_id=school_class.school_id,
                start_date=start,
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action="attendance.guest_add",
                object_type="student",
                object_id=student.pk,
                detail={
                    "class": school_class.pk,
                    "registered_at": student.school_id,
                    "from": start.isoformat(),
                },
            )
    except IntegrityError:
        raise Conflict(
            "guest_exists", _("The child is already recorded as a guest elsewhere.")
        ) from None
    return guest


def guest_end(*, actor: Any, guest_id: int, end_date: datetime.date | None = None) -> Guest:
    scope = require(actor, Action.ATTENDANCE_CORRECT)
    with transaction.atomic():
        guest = (
            Guest.objects.select_for_update()
            .filter(pk=guest_id, school_id=scope.school_id or 0, end_date__isnull=True)
            .first()
        )
        if guest is None:
            raise NotFound("not_found", _("No such guest."))
        guest.end_date = end_date or timezone.localdate()
        guest.save(update_fields=["end_date"])
        audit_record(
            actor=actor,
            action="attendance.guest_end",
            object_type="student",
            object_id=guest.student_id,
            detail={"until": guest.end_date.isoformat()},
        )
    return guest
