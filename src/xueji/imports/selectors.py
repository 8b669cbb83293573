"""Reads of imports: a school sees its own, a county (city, province) the imports of its schools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import (
    NOTHING,
    Scope,
    area_q,
    classes_visible,
    may,
    may_at_school,
    scope_of,
    students_visible,
)
from xueji.imports import columns as cols
from xueji.imports.models import ImportJob, JobState
from xueji.schools.models import School, SchoolClass
from xueji.schools.selectors import shown_academic_year
from xueji.students.models import Student
from xueji.students.selectors import with_open_placement

NOT_AN_ENTRY_SCHOOL = _(
    "Intake lists are for junior and senior high schools, which admit graduates into their "
    "first grade; register a first-grade child with the new students template."
)


def admits_graduates(school: School) -> bool:
    """Whether the school's first grade takes graduates of another stage (7 or 10, not 1)."""
    return school.first_grade > 1


def import_purposes(user: Any) -> list[tuple[str, str]]:
    """The kinds of import (key, label) the user's school can make."""
    scope = scope_of(user)
    school = None
    if scope is not None and scope.school_id is not None:
        school = School.objects.filter(pk=scope.school_id).first()
    return [
        (purpose, str(cols.PURPOSE_LABELS[purpose]))
        for purpose in cols.PURPOSES
        if purpose != cols.INTAKE or (school is not None and admits_graduates(school))
    ]


def import_purposes_listed(user: Any) -> list[tuple[str, str]]:
    """The kinds of import (key, label) the user's list of imports may hold."""
    scope = scope_of(user)
    if scope is not None and scope.is_school:
        return import_purposes(user)
    # A bureau's schools make every kind (junior and senior high schools take intake lists).
    return [(purpose, str(cols.PURPOSE_LABELS[purpose])) for purpose in cols.PURPOSES]


def import_jobs_visible(
    user: Any, *, state: str = "", purpose: str = "", school: str = ""
) -> QuerySet[ImportJob]:
    """Imports of the schools in the user's area, newest first, by state, purpose and school."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.IMPORT_VIEW):
        return ImportJob.objects.filter(NOTHING)
    jobs = ImportJob.objects.filter(area_q(scope, "school__"))
    if state:
        jobs = jobs.filter(state=state)
    if purpose:
        jobs = jobs.filter(purpose=purpose)
    term = school.strip()
    if term:
        # A 10-digit code names one school, its start a few; a name is found by any part of it,
        # since a county's schools all begin with its name (福田区第一小学 is found by 第一小学,
        # as the field's example promises). The area filter above still applies: a school's
        # user finds no other school's imports this way.
        jobs = jobs.filter(Q(school__code__startswith=term) | Q(school__name__contains=term))
    return (
        jobs.select_related("school", "created_by")
        .defer("errors", "header", "classes")
        .order_by("-created_at", "-pk")  # a total order: pages neither repeat nor skip a job
    )


def import_job_get(user: Any, job_id: Any) -> ImportJob | None:
    """One import in the user's area (with its errors), or None."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.IMPORT_VIEW):
        return None
    return (
        ImportJob.objects.filter(area_q(scope, "school__"), pk=job_id)
        .select_related("school", "created_by")
        .first()
    )


@dataclass(frozen=True)
class ImportedClass:
    """A class an import wrote into, with how many records, and whether the reader may open its
    roster."""

    school_class: SchoolClass
    count: int
    linkable: bool


@dataclass(frozen=True)
class ImportJobPage:
    """An import with the classes it wrote into, in grade and class order."""

    job: ImportJob
    classes: list[ImportedClass] = field(default_factory=list)
    # For a file refused as imported already: the import that wrote it (same school, kind and
    # SHA-256), where its classes are listed.
    earlier: ImportJob | None = None


def import_job_detail(user: Any, job_id: Any) -> ImportJobPage | None:
    """One import in the user's area with the classes it wrote into, or None."""
    job = import_job_get(user, job_id)
    if job is None:
        return None
    if job.state == JobState.DUPLICATE:
        earlier = (
            ImportJob.objects.filter(
                school_id=job.school_id,
                purpose=job.purpose,
                sha256=job.sha256,
                state=JobState.IMPORTED,
            )
            .defer("errors", "header")
            .first()
        )
        return ImportJobPage(job=job, earlier=earlier)
    counts = {int(pk): int(count) for pk, count in job.classes}
    if not counts:
        return ImportJobPage(job=job)
    classes = SchoolClass.objects.filter(pk__in=counts, school_id=job.school_id).order_by(
        "academic_year__start_year", "grade", "number"
    )
    # The job is in the reader's area, so are its classes' names. The roster has its own grant:
    # every role that sees imports sees its area's rosters today, but a link is only offered
    # where the roster view (which enforces it again) would open.
    linkable = set(
        SchoolClass.objects.filter(
            classes_visible(scope_of(user), Action.ROSTER_VIEW), pk__in=counts
        ).values_list("pk", flat=True)
    )
    return ImportJobPage(
        job=job,
        classes=[
            ImportedClass(school_class=c, count=counts[c.pk], linkable=c.pk in linkable)
            for c in classes
        ],
    )


# ---- the pre-filled updates template -----------------------------------------------------------

# The record's fields the updates template holds besides the student number, which is sealed.
PREFILL_FIELDS = tuple(f.key for f in cols.fields_of(cols.UPDATES) if f.key != "student_number")


def prefill_allowed(scope: Scope | None) -> bool:
    """May the scope have the updates template filled in with its school's students?"""
    # The file is for the updates import at the school, and holds student numbers in full.
    return (
        scope is not None
        and scope.school_id is not None
        and all(
            may_at_school(scope, action, scope.school_id)
            for action in (
                Action.IMPORT_RUN,
                Action.STUDENT_EDIT_OTHER_INFO,
                Action.STUDENT_REVEAL_ID,
            )
        )
    )


def prefill_classes(user: Any) -> list[SchoolClass] | None:
    """The classes to fill the updates template from, or None if the user may not have one."""
    scope = scope_of(user)
    if scope is None or scope.school_id is None or not prefill_allowed(scope):
        return None
    year = shown_academic_year(scope.school_id)
    if year is None:
        return []
    return list(
        SchoolClass.objects.filter(school_id=scope.school_id, academic_year=year).order_by(
            "grade", "number"
        )
    )


def prefill_class_get(user: Any, class_id: int) -> SchoolClass | None:
    """A class of the user's own school (of any year), or None."""
    scope = scope_of(user)
    if scope is None or scope.school_id is None:
        return None
    return SchoolClass.objects.filter(school_id=scope.school_id, pk=class_id).first()


def prefill_students(
    user: Any, *, school_id: int, class_id: int | None = None
) -> QuerySet[Student, dict[str, Any]]:
    """The students placed now in the school's classes (or one class), as the template's rows."""
    # One query with the open placement joined in, never one per student; in grade, class and
    # name order, values only: the sealed student number and the updates template's fields.
    placed = Q(open_placement__school_class__school_id=school_id)
    if class_id is not None:
        placed &= Q(open_placement__school_class_id=class_id)
    return (
        with_open_placement(
            Student.objects.filter(
                students_visible(scope_of(user), Action.STUDENT_VIEW_LIST), school_id=school_id
            )
        )
        .filter(placed)
        .order_by(
            F("open_placement__school_class__grade"),
            F("open_placement__school_class__number"),
            "name_pinyin",
            "id",
        )
        .values("number_sealed", *PREFILL_FIELDS)
    )
