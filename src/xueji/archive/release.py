"""The archive's part of a record that moved to another node (xueji.students.release): the
growth record (term reports, factual records, awards and sanctions with their evidence, health
checks, vaccinations, fitness results) and the child's electronic files went with the record,
so this node removes them; the files' PDFs are removed from disk once the removal commits."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import transaction

from xueji.archive.models import (
    Conduct,
    FactualRecord,
    FileJob,
    FitnessResult,
    HealthCheck,
    TermReport,
    Vaccination,
)
from xueji.students.release import rows_remove

GROWTH_RECORD = (TermReport, FactualRecord, Conduct, HealthCheck, Vaccination, FitnessResult)


def growth_record_release(student: Any) -> dict[str, tuple[int, int]]:
    from xueji.archive.services.files import archive_dir

    counts = {
        model._meta.label: rows_remove(model._default_manager.filter(student=student))
        for model in GROWTH_RECORD
    }
    jobs = FileJob.objects.filter(student=student)
    paths = [
        archive_dir() / path
        for path in jobs.exclude(stored_path="").values_list("stored_path", flat=True)
    ]
    counts[FileJob._meta.label] = rows_remove(jobs)

    def _unlink() -> None:
        for path in paths:
            with contextlib.suppress(OSError):
                path.unlink()

    transaction.on_commit(_unlink)
    return counts
