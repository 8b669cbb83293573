"""The background job that writes an export's file (django-tasks; the database backend's worker
runs it, `xueji db_worker`). Tests run the same function at once."""

from __future__ import annotations

from django_tasks import task

from xueji.exports.services import export_job_run


@task()
def run_export(job_id: str) -> str:
    return str(export_job_run(job_id=job_id).state)
