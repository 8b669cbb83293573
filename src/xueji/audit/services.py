"""Writes of the audit trail.

audit_record is called inside the transaction of the audited action, so that both commit or
neither; audit_denied writes a refusal in a transaction of its own, because the refused action's
transaction is rolled back; audit_purge applies the retention period.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from xueji.audit import chain
from xueji.audit.actors import acting_as
from xueji.audit.context import current_ip, current_request_id
from xueji.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry

# The legal floor: the log is kept at least six months. The PostgreSQL trigger has it too.
MIN_RETENTION_DAYS = 180

ACTION_DENIED = "access.denied"
ACTION_PURGE = "audit.purge"


class ChainHeadMissing(RuntimeError):
    """Entries exist but the chain head row does not: someone removed it. Writes stop until an
    operator has run `xueji audit verify` and restored it."""


def _now() -> datetime.datetime:
    return timezone.now()


def _lock_head() -> AuditChainHead:
    """The chain head, locked until the transaction ends (on SQLite the write lock, taken when
    the transaction begins, already serialises writers)."""
    heads = AuditChainHead.objects.filter(pk=1)
    if not heads.exists():
        # Entries without a head mean the head was removed; but a first writer may have just
        # committed both, so look at the head again before calling it missing.
        if AuditEntry.objects.exists() and not heads.exists():
            raise ChainHeadMissing("the audit chain head is missing while entries exist")
        # Two first writers at once: the insert of the second waits on the first's key and
        # then does nothing, so both go on to lock the one head.
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(pk=1, seq=0, hash=chain.GENESIS_HASH)], ignore_conflicts=True
        )
    return heads.select_for_update().get()


def _actor_fields(actor: Any) -> dict[str, Any]:
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if user is None:
        return {"actor": None, "actor_username": "", "actor_role": ""}
    acting = acting_as(user)
    return {
        "actor": user,
        "actor_username": chain.text_value(user.get_username(), 150),
        "actor_role": "" if acting is None else acting.role,
        "actor_school_id": None if acting is None else acting.school_id,
        "actor_division": "" if acting is None else acting.division,
    }


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
    """Append one entry to the chain, inside the action's transaction so that both commit or
    neither. `before` and `after` are the changed values of a write (JSON-able; resident ID
    numbers in any value are masked). Call it last in the transaction: it locks the chain head
    until the commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the audited action's transaction")
    head = _lock_head()
    entry = AuditEntry(
        seq=head.seq + 1,
        at=_now(),
        ip_address=chain.ip_value(current_ip()),
        action=chain.text_value(action, 64),
        object_type=chain.text_value(object_type, 64),
        object_id=None if object_id in (None, "") else uuid.UUID(str(object_id)),
        detail=chain.json_value(detail or {}),
        before=chain.json_value(before),
        after=chain.json_value(after),
        request_id=current_request_id() or uuid.uuid4(),
        prev_hash=head.hash,
        **_actor_fields(actor),
    )
    entry.hash = chain.entry_hash(head.hash, entry)
    entry.save(force_insert=True)
    AuditChainHead.objects.filter(pk=head.pk).update(seq=entry.seq, hash=entry.hash)
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


def audit_purge(*, actor: Any) -> AuditCheckpoint | None:
    """Remove the entries older than the retention period, oldest first and without gaps, and
    leave a checkpoint so that the chain, now starting later, still verifies. The purge itself
    is audited. Returns the checkpoint, or None when nothing was old enough."""
    days = retention_days()
    if days < MIN_RETENTION_DAYS:
        raise ValueError(f"XUEJI_AUDIT_RETENTION_DAYS is {days}, below {MIN_RETENTION_DAYS}")
    cutoff = _now() - datetime.timedelta(days=days)
    with transaction.atomic():
        _lock_head()
        kept = AuditEntry.objects.filter(at__gte=cutoff).order_by("seq").first()
        old = AuditEntry.objects.filter(at__lt=cutoff)
        if kept is not None:
            old = old.filter(seq__lt=kept.seq)
        last_old = old.order_by("-seq").first()
        if last_old is None:
            return None
        first_seq = last_old.seq + 1
        # On PostgreSQL the trigger lets this transaction delete entries past the legal floor.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL xueji.audit_purge = 'on'")
        purged, _ = AuditEntry.objects.filter(seq__lt=first_seq).delete()
        checkpoint = AuditCheckpoint.objects.create(
            first_seq=first_seq, anchor_hash=last_old.hash, purged=purged, cutoff=cutoff
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL xueji.audit_purge = 'off'")
        audit_record(
            actor=actor,
            action=ACTION_PURGE,
            detail={
                "first_seq": first_seq,
                "anchor_hash": last_old.hash,
                "purged": purged,
                "cutoff": chain.at_value(cutoff),
                "retention_days": days,
            },
        )
    return checkpoint
