"""Reads of imports: a school sees its own, a county (city, province) the imports of its schools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import NOTHING, area_q, classes_visible, may, scope_of
from xueji.imports import columns as cols
from xueji.imports.models import ImportJob, JobState
from xueji.schools.models import School, SchoolClass

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
