"""The background task that executes a started year-end run (django-tasks, database backend:
`xueji db_worker` picks it up). A run interrupted half way is resumed by enqueuing it again."""

from __future__ import annotations

from django_tasks import task

from xueji.yearend.services import run_execute


@task()
def yearend_run_task(run_id: str) -> int:
    run = run_execute(run_id=run_id)
    return run.students_done
