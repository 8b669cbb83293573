"""Reads of imports: a school sees its own, a county (city, province) the imports of its schools."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xueji.access.policy import Action
from xueji.access.scope import NOTHING, area_q, may, scope_of
from xueji.imports.models import ImportJob


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
