"""The background task that seals a checkpoint of the audit trail (django-tasks, database
backend: `xueji db_worker` picks it up). `xueji audit seal --every N` is the usual way to seal
every few seconds; the task lets a scheduler or another service ask for one now."""

from __future__ import annotations

from django_tasks import task

from xueji.audit.checkpoints import audit_checkpoint_seal


@task()
def audit_seal_task() -> int:
    """Seal the chains' heads; the number of the checkpoint written (0 when no head moved)."""
    result = audit_checkpoint_seal()
    return 0 if result.checkpoint is None else result.checkpoint.number
