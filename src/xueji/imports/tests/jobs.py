"""Import jobs made directly in the database, for the tests of the lists of imports."""

from __future__ import annotations

from typing import Any

from xueji.imports.models import ImportJob, JobState


def make_jobs(school: Any, user: Any, count: int, prefix: str, **fields: Any) -> list[ImportJob]:
    """`count` finished jobs of the school named `<prefix>-000.xlsx` …, imported new students
    unless `fields` say otherwise."""
    fields = {"purpose": "students", "state": JobState.IMPORTED, **fields}
    return ImportJob.objects.bulk_create(
        ImportJob(
            school=school, sha256=f"{n:064x}", filename=f"{prefix}-{n:03d}.xlsx", kind="xlsx",
            created_by=user, **fields,
        )
        for n in range(count)
    )  # fmt: skip
