"""Writes of the audit trail.

audit_record is called inside the transaction of the audited action, so that both commit or
neither; it appends to the one chain of that transaction (xueji.audit.chains). audit_denied writes
a refusal in a transaction of its own, because the refused action's transaction is rolled back;
audit_purge applies the retention period, through whole signed checkpoints
(xueji.audit.checkpoints).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from xueji.audit import chain
from xueji.audit.actors import acting_as
from xueji.audit.chains import (
    ChainTruncated,
    chain_lock,
    chain_of,
    chain_position,
    transaction_chain,
)
from xueji.audit.checkpoints import MIN_RETENTION_DAYS, purge_anchor, purge_bounds
from xueji.audit.context import current_ip, current_request_id
from xueji.audit.models import AuditEntry, AuditPurge

__all__ = [
    "ACTION_DENIED",
    "ACTION_PURGE",
    "MIN_RETENTION_DAYS",
    "ChainTruncated",
    "PurgeResult",
    "audit_denied",
    "audit_purge",
    "audit_record",
    "retention_days",
]

ACTION_DENIED = "access.denied"
ACTION_PURGE = "audit.purge"


def _now() -> datetime.datetime:
    return timezone.now()


def _actor_fields(actor: Any) -> tuple[dict[str, Any], str]:
    """The entry's fields about its actor, and the actor's chain."""
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if user is None:
        return {"actor": None, "actor_username": "", "actor_role": ""}, chain_of(None)
    acting = acting_as(user)
    fields = {
        "actor": user,
        "actor_username": chain.text_value(user.get_username(), 150),
        "actor_role": "" if acting is None else acting.role,
        "actor_school_id": None if acting is None else acting.school_id,
        "actor_division": "" if acting is None else acting.division,
    }
    return fields, chain_of(acting)


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: uuid.UUID | str | None = None,
    detail: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the transaction's chain, inside the action's transaction so that both
    commit or neither. `before` and `after` are the changed values of a write (JSON-able; resident
    ID numbers in any value are masked). The first entry of a transaction chooses the chain (the
    actor's county or division, or the system chain) and waits for the chain's other writers
    until the commit, so call it late in the transaction; later entries of the same transaction
    go to the same chain, whoever their actor."""
    current = transaction.get_connection()
    if not current.in_atomic_block:
        raise RuntimeError("audit_record must run inside the audited action's transaction")
    actor_fields, wanted = _actor_fields(actor)
    key, chosen_now = transaction_chain(current, wanted)
    if chosen_now:
        chain_lock(current, key)
    seq, prev_hash = chain_position(key)
    entry = AuditEntry(
        chain=key,
        seq=seq + 1,
        at=_now(),
        ip_address=chain.ip_value(current_ip()),
        action=chain.text_value(action, 64),
        object_type=chain.text_value(object_type, 64),
        object_id=None if object_id in (None, "") else uuid.UUID(str(object_id)),
        detail=chain.json_value(detail or {}),
        before=chain.json_value(before),
        after=chain.json_value(after),
        request_id=current_request_id() or uuid.uuid4(),
        prev_hash=prev_hash,
        **actor_fields,
    )
    entry.hash = chain.entry_hash(prev_hash, entry)
    entry.save(force_insert=True)
    return entry


def audit_denied(
    *,
    actor: Any,
    code: str,
    reason: str = "",
    object_type: str = "",
    object_id: uuid.UUID | str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record a failed permission check even though the request is refused: in a transaction
    of its own, to be called after the refused action's transaction has ended (the audit
    middleware does, for every refusal of a request)."""
    with transaction.atomic():
        return audit_record(
            actor=actor,
            action=ACTION_DENIED,
            object_type=object_type,
            object_id=object_id,
            detail={"code": code, **({"reason": reason} if reason else {}), **(detail or {})},
        )


def retention_days() -> int:
    return int(getattr(settings, "XUEJI_AUDIT_RETENTION_DAYS", 365))


@dataclass(frozen=True)
class PurgeResult:
    checkpoint: int  # the number of the checkpoint purged through
    sealed_at: datetime.datetime
    purged: int
    chains: int


def audit_purge(*, actor: Any, now: datetime.datetime | None = None) -> PurgeResult | None:
    """Remove the entries sealed by the latest checkpoint older than the retention period: per
    chain, every entry up to the head that checkpoint sealed (xueji.audit.checkpoints.purge_bounds),
    which stays the chain's anchor. Nothing else goes: entries sealed later, or not yet, stay. The
    purge is recorded (AuditPurge) and audited. Returns None when no checkpoint is old enough.

    On PostgreSQL the deletion is the function xueji_audit_purge_through (migration 0003), owned
    by the tables' owner: the trigger lets entries go only inside it."""
    days = retention_days()
    if days < MIN_RETENTION_DAYS:
        raise ValueError(f"XUEJI_AUDIT_RETENTION_DAYS is {days}, below {MIN_RETENTION_DAYS}")
    now = now or _now()
    with transaction.atomic():
        anchor = purge_anchor(now=now, retention_days=days)
        if anchor is None:
            return None
        bounds = purge_bounds(anchor.number)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT xueji_audit_purge_through(%s, %s)", [anchor.number, days])
                purged = int(cursor.fetchone()[0])
        else:
            purged = 0
            for key, last in bounds.items():
                purged += AuditEntry.objects.filter(chain=key, seq__lte=last).delete()[0]
            AuditPurge.objects.create(at=now, checkpoint=anchor, purged=purged, retention_days=days)
        audit_record(
            actor=actor,
            action=ACTION_PURGE,
            detail={
                "checkpoint": anchor.number,
                "root": anchor.root,
                "sealed_at": chain.at_value(anchor.at),
                "purged": purged,
                "chains": len(bounds),
                "retention_days": days,
            },
        )
    return PurgeResult(
        checkpoint=anchor.number, sealed_at=anchor.at, purged=purged, chains=len(bounds)
    )
