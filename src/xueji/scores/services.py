"""Writes of teaching assignments (by the registrar) and scores (by the assigned teacher)."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.models import Membership, Role
from xueji.access.policy import Action
from xueji.access.scope import classes_visible, may_at_school, require, students_visible
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import SchoolClass, Term
from xueji.scores.models import (
    MAX_SCORE,
    MIN_SCORE,
    Score,
    ScoreKind,
    Subject,
    TeachingAssignment,
)
from xueji.students.models import Student


def _field_error(field: str, message: Any, code: str) -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code)]})


def teaching_assign(
    *, actor: Any, school_class_id: int, subject: str, teacher_id: int
) -> TeachingAssignment:
    """The registrar assigns a subject teacher of the school to teach a subject in a class."""
    scope = require(actor, Action.TEACHING_MANAGE)
    school_class = SchoolClass.objects.filter(pk=school_class_id).first()
    if school_class is None or not may_at_school(
        scope, Action.TEACHING_MANAGE, school_class.school_id
    ):
        raise NotFound("class_not_found", _("No such class at your school."))
    if subject not in Subject.values:
        raise _field_error("subject", _("Choose a subject of the list."), "invalid_choice")
    teacher = Membership.objects.filter(
        user_id=teacher_id, role=Role.SUBJECT_TEACHER, school_id=school_class.school_id
    ).first()
    if teacher is None:
        raise _field_error(
            "teacher", _("Choose a subject teacher of your school."), "not_a_subject_teacher"
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                assignment = TeachingAssignment.objects.create(
                    teacher_id=teacher_id,
                    school_class=school_class,
                    subject=subject,
                    assigned_by=actor,
                )
        except IntegrityError:
            raise Conflict(
                "subject_taken", _("Someone already teaches this subject in this class.")
            ) from None
        audit_record(
            actor=actor,
            action="teaching.assign",
            object_type="teaching_assignment",
            after={
                "assignment": assignment.pk,
                "teacher": teacher_id,
                "class": school_class.pk,
                "subject": subject,
            },
        )
    return assignment


def teaching_unassign(*, actor: Any, assignment_id: int) -> None:
    """The registrar ends an assignment; the scores entered stay."""
    scope = require(actor, Action.TEACHING_MANAGE)
    with transaction.atomic():
        assignment = (
            TeachingAssignment.objects.select_for_update()
            .select_related("school_class")
            .filter(pk=assignment_id)
            .first()
        )
        if assignment is None or not may_at_school(
            scope, Action.TEACHING_MANAGE, assignment.school_class.school_id
        ):
            raise NotFound("assignment_not_found", _("No such teaching assignment."))
        before = {
            "assignment": assignment.pk,
            "teacher": assignment.teacher_id,
            "class": assignment.school_class_id,
            "subject": assignment.subject,
        }
        assignment.delete()
        audit_record(
            actor=actor,
            action="teaching.unassign",
            object_type="teaching_assignment",
            before=before,
        )


def _parse_score(text: str) -> Decimal | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError from None
    if not value.is_finite() or value != value.quantize(Decimal("0.1")):
        raise ValueError
    if not MIN_SCORE <= value <= MAX_SCORE:
        raise ValueError
    return value


def scores_enter(
    *,
    actor: Any,
    assignment_id: int,
    term_id: int,
    scores: dict[str, str],
    kind: str = ScoreKind.TERM,
) -> dict[str, Decimal | None]:
    """The assigned teacher enters the scores of the class's current students in the subject
    for a term: {student id: "87.5"}; an empty value removes a score. All or nothing. `kind`:
    the term mark (default) or the final examination's."""
    scope = require(actor, Action.SCORE_ENTER)
    if kind not in ScoreKind.values:
        raise _field_error("kind", _("Choose a kind of mark of the list."), "invalid_choice")
    assignment = (
        TeachingAssignment.objects.select_related("school_class")
        .filter(
            classes_visible(scope, Action.SCORE_ENTER, prefix="school_class__"),
            pk=assignment_id,
            teacher_id=scope.user_id,
        )
        .first()
    )
    if assignment is None:
        raise NotFound("assignment_not_found", _("No such teaching assignment."))
    school_class = assignment.school_class
    term = Term.objects.filter(pk=term_id, academic_year_id=school_class.academic_year_id).first()
    if term is None:
        raise _field_error("term", _("Choose a term of the class's school year."), "invalid_term")
    students = {
        str(pk)
        for pk in Student.objects.filter(
            students_visible(scope, Action.STUDENT_VIEW_NAMES),
            placements__school_class=school_class,
            placements__end_date__isnull=True,
        ).values_list("pk", flat=True)
    }
    errors: dict[str, list[ValidationError]] = {}
    parsed: dict[str, Decimal | None] = {}
    for student_id, text in scores.items():
        if student_id not in students:
            errors.setdefault("__all__", []).append(
                ValidationError(_("A score is for a student of the class."), code="not_in_class")
            )
            continue
        try:
            parsed[student_id] = _parse_score(text)
        except ValueError:
            errors[student_id] = [
                ValidationError(
                    _("A score is a number from %(min)s to %(max)s, with at most one decimal."),
                    code="invalid_score",
                    params={"min": MIN_SCORE, "max": MAX_SCORE},
                )
            ]
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        existing = {
            str(score.student_id): score
            for score in Score.objects.select_for_update().filter(
                student_id__in=list(parsed), subject=assignment.subject, term=term, kind=kind
            )
        }
        before: dict[str, str | None] = {}
        after: dict[str, str | None] = {}
        for student_id, value in parsed.items():
            current = existing.get(student_id)
            old = None if current is None else current.score
            if old == value:
                continue
            before[student_id] = None if old is None else str(old)
            after[student_id] = None if value is None else str(value)
            if value is None:
                assert current is not None
                current.delete()
            elif current is None:
                Score.objects.create(
                    student_id=student_id,
                    school_class=school_class,
                    subject=assignment.subject,
                    term=term,
                    kind=kind,
                    score=value,
                    entered_by=actor,
                )
            else:
                current.score = value
                current.school_class = school_class
                current.entered_by = actor
                current.save(update_fields=["score", "school_class", "entered_by", "updated_at"])
        if after:
            audit_record(
                actor=actor,
                action="score.enter",
                object_type="class",
                detail={
                    "class": school_class.pk,
                    "subject": assignment.subject,
                    "term": term.pk,
                    "kind": kind,
                },
                before=before,
                after=after,
            )
    return parsed
