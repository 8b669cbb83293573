"""The background job that writes an electronic file (django-tasks; the database backend's
worker runs it, `xueji db_worker`). Tests run the same function at once."""

from __future__ import annotations

from django_tasks import task

from xueji.archive.services.files import file_job_run


@task()
def run_file_job(job_id: str) -> str:
    return str(file_job_run(job_id=job_id).state)
