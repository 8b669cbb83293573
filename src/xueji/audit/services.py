"""Writes of the audit trail. Always called inside the transaction of the audited action."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from xueji.audit.context import current_ip
from xueji.audit.models import AuditEntry


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry, inside the action's transaction so that both commit or neither."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the audited action's transaction")
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        ip_address=current_ip(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail or {},
    )
