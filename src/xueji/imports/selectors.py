"""Reads of imports: a school sees its own, a county (city, province) the imports of its schools."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import NOTHING, area_q, may, scope_of
from xueji.imports import columns as cols
from xueji.imports.models import ImportJob
from xueji.schools.models import School

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


def import_jobs_visible(user: Any) -> QuerySet[ImportJob]:
    """Imports of the schools in the user's area, newest first."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.IMPORT_VIEW):
        return ImportJob.objects.filter(NOTHING)
    return (
        ImportJob.objects.filter(area_q(scope, "school__"))
        .select_related("school", "created_by")
        .defer("errors", "header")
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
