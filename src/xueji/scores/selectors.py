"""Reads for subject teachers (their assignments, the names in those classes, the scores) and
for the registrar (the school's assignments). Nothing else of a student is shown here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from xueji.access.models import Membership, Role
from xueji.access.policy import Action
from xueji.access.scope import (
    NOTHING,
    classes_visible,
    may,
    may_at_school,
    scope_of,
    students_visible,
)
from xueji.schools.models import SchoolClass, Term
from xueji.schools.selectors import school_classes
from xueji.scores.models import Score, ScoreKind, TeachingAssignment
from xueji.students.models import Student


def my_assignments(user: Any) -> QuerySet[TeachingAssignment]:
    """The classes and subjects the user is assigned to teach."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.SCORE_ENTER):
        return TeachingAssignment.objects.filter(NOTHING)
    return (
        TeachingAssignment.objects.filter(
            classes_visible(scope, Action.SCORE_ENTER, prefix="school_class__"),
            teacher_id=scope.user_id,
        )
        .select_related("school_class", "school_class__school", "school_class__academic_year")
        .order_by(
            "-school_class__academic_year__start_year",
            "school_class__grade",
            "school_class__number",
            "subject",
        )
    )


@dataclass
class NameRow:
    """What a subject teacher sees of a student: the name (and the id the form posts back)."""

    id: Any
    name: str
    score: Decimal | None = None


@dataclass
class ScoreSheet:
    assignment: TeachingAssignment
    terms: list[Term]
    term: Term | None
    rows: list[NameRow]
    kind: str = ScoreKind.TERM


def score_sheet(
    user: Any, assignment_id: int, term_id: int | None = None, kind: str = ScoreKind.TERM
) -> ScoreSheet | None:
    """One of the user's assignments with the names of the class's current students and
    their marks of a kind (term mark or final examination) in the subject for a term (the
    current term unless another is asked)."""
    assignment = my_assignments(user).filter(pk=assignment_id).first()
    if assignment is None:
        return None
    school_class = assignment.school_class
    terms = list(Term.objects.filter(academic_year_id=school_class.academic_year_id))
    today = timezone.localdate()
    term = next((t for t in terms if t.pk == term_id), None) or next(
        (t for t in terms if t.start_date <= today <= t.end_date), terms[0] if terms else None
    )
    names = (
        Student.objects.filter(
            students_visible(scope_of(user), Action.STUDENT_VIEW_NAMES),
            placements__school_class=school_class,
            placements__end_date__isnull=True,
        )
        .order_by("name_pinyin", "id")
        .values_list("pk", "name")
    )
    scores = (
        {}
        if term is None
        else dict(
            Score.objects.filter(subject=assignment.subject, term=term, kind=kind)
            .filter(student_id__in=[pk for pk, _name in names])
            .values_list("student_id", "score")
        )
    )
    rows = [NameRow(id=pk, name=name, score=scores.get(pk)) for pk, name in names]
    return ScoreSheet(assignment=assignment, terms=terms, term=term, rows=rows, kind=kind)


@dataclass
class TeachingOverview:
    assignments: list[TeachingAssignment]
    classes: list[SchoolClass]
    teachers: list[Any]
    # The school year asked for (its classes and assignments only); None: the shown year's
    # classes and every assignment.
    year: int | None = None


def school_teaching(user: Any, start_year: int | None = None) -> TeachingOverview | None:
    """The registrar's school: its assignments, its classes and its subject teachers; with
    `start_year`, only that school year's classes and assignments (a year being set up)."""
    scope = scope_of(user)
    if (
        scope is None
        or scope.school_id is None
        or not may_at_school(scope, Action.TEACHING_MANAGE, scope.school_id)
    ):
        return None
    memberships = Membership.objects.filter(
        role=Role.SUBJECT_TEACHER, school_id=scope.school_id
    ).select_related("user")
    assignments = TeachingAssignment.objects.filter(school_class__school_id=scope.school_id)
    if start_year is None:
        classes = school_classes(user, scope.school_id)
    else:
        assignments = assignments.filter(school_class__academic_year__start_year=start_year)
        classes = list(
            SchoolClass.objects.filter(
                school_id=scope.school_id, academic_year__start_year=start_year
            )
            .select_related("academic_year", "class_teacher")
            .order_by("grade", "number")
        )
    return TeachingOverview(
        assignments=list(
            assignments.select_related(
                "teacher", "school_class", "school_class__academic_year"
            ).order_by("school_class__grade", "school_class__number", "subject")
        ),
        classes=classes,
        teachers=[m.user for m in memberships.order_by("user__username")],
        year=start_year,
    )


def school_assignment(user: Any, assignment_id: int) -> TeachingAssignment | None:
    """One teaching assignment of the registrar's school, with its teacher and class (what its
    ending names); None when it is not the user's school's or the user may not manage it."""
    scope = scope_of(user)
    if (
        scope is None
        or scope.school_id is None
        or not may_at_school(scope, Action.TEACHING_MANAGE, scope.school_id)
    ):
        return None
    return (
        TeachingAssignment.objects.select_related(
            "teacher", "school_class", "school_class__academic_year"
        )
        .filter(pk=assignment_id, school_class__school_id=scope.school_id)
        .first()
    )
