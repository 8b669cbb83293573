"""The background job that runs an import (django-tasks; the database backend's worker runs it,
`xueji db_worker`). Tests and the CLI run the same function synchronously."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import(job_id: str) -> str:
    from xueji.imports.services import import_job_run

    return str(import_job_run(job_id=job_id).state)


@task()
def run_export(job_id: str) -> str:
    from xueji.imports.export_services import export_job_run

    return str(export_job_run(job_id=job_id).state)
