"""Background jobs of the identity app (django-tasks; `xueji db_worker` runs them): the nightly
duplicate scan and the escalation of overdue pairs (`xueji duplicates scan` enqueues or runs it
from cron)."""

from __future__ import annotations

from django_tasks import task

from xueji.identity.scan import duplicate_scan
from xueji.identity.services import pairs_escalate_overdue


@task()
def scan_duplicates(area_code: str = "") -> dict[str, int]:
    escalated = pairs_escalate_overdue()
    result = duplicate_scan(actor=None, area_code=area_code)
    return {"records": result.records, "proposed": result.proposed, "escalated": escalated}
