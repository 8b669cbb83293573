"""Writes of verification: county approvers open and close windows; class teachers confirm a
record or report an error (which becomes a correction request for the registrar); the registrar
records what a guardian's signed record check sheet (核对表) said."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import require, students_visible, today
from xueji.audit.services import audit_record
from xueji.changes.models import VERIFICATION
from xueji.changes.windows import closure_between, closure_on, closure_where
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.corrections.basic import current_values as basic_values
from xueji.corrections.basic import text_of as basic_text
from xueji.corrections.evidence import Upload
from xueji.corrections.services import correction_report, correction_submit
from xueji.geo.models import Division
from xueji.schools.models import Term, academic_start_year
from xueji.schools.services import academic_year_ensure
from xueji.students.family import family_contacts_update
from xueji.students.models import Placement, Student
from xueji.students.services import OTHER_INFO_FIELDS, student_update_other_info
from xueji.verification.models import (
    CheckOutcome,
    GuardianCheck,
    GuardianOutcome,
    StudentCheck,
    VerificationWindow,
)

# "A few days at the start of term": a longer window is refused (a setting of the deployment).
DEFAULT_MAX_WINDOW_DAYS = 31


def max_window_days() -> int:
    return int(getattr(settings, "XUEJI_VERIFICATION_WINDOW_MAX_DAYS", DEFAULT_MAX_WINDOW_DAYS))


def _field_error(field: str, message: Any, code: str, **params: Any) -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code, params=params or None)]})


def _term_holding(opens_on: datetime.date, closes_on: datetime.date, actor: Any) -> Term:
    """The term both days fall in (the academic year is created with its terms if need be)."""
    academic_year_ensure(actor=actor, start_year=academic_start_year(opens_on))
    term = Term.objects.filter(start_date__lte=opens_on, end_date__gte=closes_on).first()
    if term is None:
        raise _field_error(
            "closes_on",
            _("A window lies within one term: its first and last days are in different terms."),
            "window_crosses_terms",
        )
    return term


def window_open(
    *, actor: Any, opens_on: datetime.date, closes_on: datetime.date
) -> VerificationWindow:
    """A county approver opens a verification window for the county's class teachers."""
    scope = require(actor, Action.WINDOW_MANAGE)
    if scope.level != ScopeLevel.COUNTY or not scope.division_code:
        raise NotFound("county_not_found", _("No such county in your area."))
    if closes_on < opens_on:
        raise _field_error(
            "closes_on", _("The last day cannot come before the first day."), "window_dates_order"
        )
    if closes_on < today():
        raise _field_error("closes_on", _("The last day has already passed."), "window_in_the_past")
    days = (closes_on - opens_on).days + 1
    if days > max_window_days():
        raise _field_error(
            "closes_on",
            _("A window lasts at most %(max)d days."),
            "window_too_long",
            max=max_window_days(),
        )
    closure = closure_between(VERIFICATION, [scope.division_code], opens_on, closes_on)
    if closure is not None:
        raise _field_error(
            "opens_on",
            _(
                "Verification is closed (%(where)s, %(first)s to %(last)s): choose days "
                "outside that period."
            ),
            "verification_closed",
            where=closure_where(closure),
            first=closure.first.isoformat(),
            last=closure.last.isoformat(),
        )
    with transaction.atomic():
        # One window at a time per county: the county's row serialises concurrent openings.
        county = Division.objects.select_for_update().get(pk=scope.division_code)
        term = _term_holding(opens_on, closes_on, actor)
        overlapping = VerificationWindow.objects.filter(
            county=county, closed_at__isnull=True, opens_on__lte=closes_on, closes_on__gte=opens_on
        ).first()
        if overlapping is not None:
            raise Conflict(
                "window_overlaps",
                _("A window from %(start)s to %(end)s is already set for these days.")
                % {"start": overlapping.opens_on, "end": overlapping.closes_on},
            )
        window = VerificationWindow.objects.create(
            county=county, term=term, opens_on=opens_on, closes_on=closes_on, opened_by=actor
        )
        audit_record(
            actor=actor,
            action="verification_window.open",
            object_type="verification_window",
            after={
                "window": window.pk,
                "county": county.code,
                "term": str(term),
                "opens_on": opens_on.isoformat(),
                "closes_on": closes_on.isoformat(),
            },
        )
    return window


def window_close(*, actor: Any, window_id: int) -> VerificationWindow:
    """Close a window of the approver's county before its last day (or before it opens)."""
    scope = require(actor, Action.WINDOW_MANAGE)
    with transaction.atomic():
        window = (
            VerificationWindow.objects.select_for_update()
            .filter(pk=window_id, county_id=scope.division_code)
            .first()
            if scope.level == ScopeLevel.COUNTY
            else None
        )
        if window is None:
            raise NotFound("window_not_found", _("No such verification window."))
        if window.closed_at is not None or window.closes_on < today():
            raise Conflict("window_closed", _("This verification window is already closed."))
        window.closed_at = timezone.now()
        window.closed_by = actor
        window.save(update_fields=["closed_at", "closed_by"])
        audit_record(
            actor=actor,
            action="verification_window.close",
            object_type="verification_window",
            before={"window": window.pk, "closes_on": window.closes_on.isoformat()},
            after={"window": window.pk, "closed_at": window.closed_at.isoformat()},
        )
    return window


def _checked_student(actor: Any, student_id: Any) -> tuple[Student, Placement, VerificationWindow]:
    """A current student of one of the class teacher's classes, while the window is open."""
    scope = require(actor, Action.CLASS_VERIFY)
    student = (
        Student.objects.select_for_update()
        .select_related("school")
        .filter(students_visible(scope, Action.CLASS_VERIFY), pk=student_id)
        .first()
    )
    window = (
        None
        if student is None
        else VerificationWindow.objects.open_on(today())
        .filter(county_id=student.school.county_id)
        .first()
    )
    placement = (
        None
        if student is None
        else Placement.objects.filter(student=student, end_date__isnull=True).first()
    )
    if student is None or window is None or placement is None:
        raise NotFound("student_not_found", _("No such student."))
    # A period closed after the window opened stops the checks too.
    closure = closure_on(VERIFICATION, [student.school.province_id], today())
    if closure is not None:
        raise Conflict(
            "verification_closed",
            _("Verification is closed (%(where)s) until %(last)s.")
            % {"where": closure_where(closure), "last": closure.last.isoformat()},
        )
    existing = StudentCheck.objects.filter(student=student, window=window).first()
    if existing is not None:
        raise Conflict(
            "already_checked",
            _("This record was already checked in this window: %(outcome)s.")
            % {"outcome": existing.get_outcome_display()},
        )
    return student, placement, window


def student_confirm(*, actor: Any, student_id: Any) -> StudentCheck:
    """The class teacher confirms that a student's record is correct."""
    with transaction.atomic():
        student, placement, window = _checked_student(actor, student_id)
        check = StudentCheck.objects.create(
            window=window,
            student=student,
            school_class_id=placement.school_class_id,
            outcome=CheckOutcome.CONFIRMED,
            checked_by=actor,
        )
        audit_record(
            actor=actor,
            action="student.verify",
            object_type="student",
            object_id=student.pk,
            detail={"outcome": CheckOutcome.CONFIRMED.value, "window": window.pk},
        )
    return check


def student_report_error(*, actor: Any, student_id: Any, note: str) -> StudentCheck:
    """The class teacher reports an error in a student's record: a correction request is
    opened for the school's registrar. The record itself is not changed."""
    note = (note or "").strip()
    with transaction.atomic():
        student, placement, window = _checked_student(actor, student_id)
        if not note:
            raise _field_error("note", _("Say what is wrong in the record."), "required")
        correction = correction_report(actor=actor, student_id=student.pk, note=note)
        check = StudentCheck.objects.create(
            window=window,
            student=student,
            school_class_id=placement.school_class_id,
            outcome=CheckOutcome.REPORTED,
            note=note,
            correction=correction,
            checked_by=actor,
        )
        audit_record(
            actor=actor,
            action="student.verify",
            object_type="student",
            object_id=student.pk,
            detail={
                "outcome": CheckOutcome.REPORTED.value,
                "window": window.pk,
                "correction": str(correction.pk),
            },
        )
    return check


# ---- the guardians' record check sheets (核对表) ------------------------------------------------


def _guardian_checked_student(scope: Any, student_id: Any) -> tuple[Student, Placement]:
    """A child on the roll of the registrar's school, in a class, locked."""
    student = (
        Student.objects.select_for_update()
        .filter(students_visible(scope, Action.GUARDIAN_CHECK), pk=student_id)
        .first()
    )
    placement = (
        None
        if student is None
        else Placement.objects.filter(student=student, end_date__isnull=True).first()
    )
    if student is None or placement is None or placement.school_id != scope.school_id:
        raise NotFound("student_not_found", _("No such student."))
    return student, placement


def guardian_check_record(
    *,
    actor: Any,
    student_id: Any,
    confirmed: bool,
    basic: dict[str, Any] | None = None,
    other: dict[str, Any] | None = None,
    contacts: dict[int, dict[str, str]] | None = None,
    reason: str = "",
    evidence: Sequence[Upload] = (),
    signed_by: str = "",
    note: str = "",
) -> GuardianCheck:
    """The registrar records a guardian's signed check sheet: confirmed, or the corrections it
    carries (each value as the guardian wrote it; only those that differ from the record
    count): other information and family contacts are changed at once through the students
    services, key data becomes a correction request with the sheet's scan as its evidence.
    All or nothing: every bad field is reported (named as on the form), nothing is written."""
    scope = require(actor, Action.GUARDIAN_CHECK)
    signed_by = (signed_by or "").strip()[:64]
    note = (note or "").strip()
    with transaction.atomic():
        student, placement = _guardian_checked_student(scope, student_id)
        if confirmed:
            check = GuardianCheck.objects.create(
                student=student,
                school_class_id=placement.school_class_id,
                outcome=GuardianOutcome.CONFIRMED,
                signed_by=signed_by,
                note=note,
                recorded_by=actor,
            )
            audit_record(
                actor=actor,
                action="guardian_check.confirmed",
                object_type="student",
                object_id=student.pk,
                detail={"check": str(check.pk), "class": placement.school_class_id},
            )
            return check
        current = basic_values(student)
        key_changes = {
            name: value
            for name, value in (basic or {}).items()
            if name in current and basic_text(value) != current[name]
        }
        other_changes = {
            name: value
            for name, value in (other or {}).items()
            if name in OTHER_INFO_FIELDS and value != getattr(student, name)
        }
        problems: dict[str, list[ValidationError]] = {}
        changed: list[str] = []
        correction = None
        if other_changes:
            try:
                with transaction.atomic():
                    student_update_other_info(
                        actor=actor, student_id=student.pk, changes=other_changes
                    )
                changed.extend(sorted(other_changes))
            except FieldErrors as error:
                problems.update(error.errors)
        if contacts:
            try:
                with transaction.atomic():
                    changed.extend(
                        family_contacts_update(
                            actor=actor, student_id=student.pk, contacts=contacts
                        )
                    )
            except FieldErrors as error:
                problems.update(error.errors)
        if key_changes:
            try:
                with transaction.atomic():
                    correction = correction_submit(
                        actor=actor,
                        student_id=student.pk,
                        changes=key_changes,
                        reason=reason,
                        evidence=evidence,
                    )
            except FieldErrors as error:
                problems.update(error.errors)
        if problems:
            raise FieldErrors(problems)
        if not changed and correction is None:
            raise _field_error(
                "__all__",
                _(
                    "Nothing differs from the record: if the guardian found nothing wrong, "
                    "record the sheet as confirmed."
                ),
                "no_correction",
            )
        check = GuardianCheck.objects.create(
            student=student,
            school_class_id=placement.school_class_id,
            outcome=GuardianOutcome.CORRECTED,
            changed_fields=changed,
            correction=correction,
            signed_by=signed_by,
            note=note,
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            action="guardian_check.corrected",
            object_type="student",
            object_id=student.pk,
            detail={
                "check": str(check.pk),
                "class": placement.school_class_id,
                "changed": changed,
                "correction": str(correction.pk) if correction else "",
            },
        )
    return check
