"""The background job that runs an import (django-tasks; the database backend's worker runs it,
`xueji db_worker`). Tests and the CLI run the same function synchronously."""

from __future__ import annotations

from django_tasks import task

# An export queued before exports had an app of their own is stored under the task path
# xueji.imports.tasks.run_export: the name still leads the worker to the task.
from xueji.exports.tasks import run_export as run_export
from xueji.imports.services import import_job_run


@task()
def run_import(job_id: str) -> str:
    return str(import_job_run(job_id=job_id).state)
