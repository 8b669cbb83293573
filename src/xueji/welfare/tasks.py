"""The nightly refresh of the consistency checks (django-tasks, database backend: `xueji
db_worker` picks it up; cron enqueues it with `xueji welfare_checks --enqueue`)."""

from __future__ import annotations

from django_tasks import task

from xueji.welfare.checks import checks_run
from xueji.welfare.selectors import current_term, term_of


@task()
def welfare_checks_task(term_id: int | None = None) -> int:
    """Refresh the findings of the term (default: the current one) for the whole registry;
    returns how many findings there are."""
    term = term_of(term_id) if term_id else current_term()
    if term is None:
        return 0
    return checks_run(actor=None, scope=None, term=term).findings
