"""Reads of background exports: a user sees only their own (the file holds the records of its
requester's area)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xueji.exports.models import ExportJob, ExportState

RECENT_EXPORTS = 20


def export_job_get(user: Any, job_id: Any) -> ExportJob | None:
    """One of the user's own background exports (another's is not found: the file holds the
    records of its requester's area)."""
    return ExportJob.objects.filter(pk=job_id, created_by_id=user.pk).first()


def export_jobs_recent(user: Any) -> QuerySet[ExportJob]:
    """The user's background exports still listed (not expired), newest first."""
    return ExportJob.objects.filter(created_by_id=user.pk).exclude(state=ExportState.EXPIRED)[
        :RECENT_EXPORTS
    ]
