"""Retention of the messages between nodes (`xueji federation trim`, daily from the worker).

Outbox rows carry payloads with personal data and, for `transfer.filed`, sealed documents (up to
about 10.7 MB; both nodes keep their own copy in `CrossEvidence`, so the message's is a spare).
After XUEJI_FEDERATION_RETENTION_DAYS (default 30) they are dropped, without ever losing a
message or applying one twice. Each kind of row, and why its deletion is safe:

1. **This node's own outbox** (a province's `federation_outbox`, the hub's
   `federation_huboutbox`). Logical decoding reads the WAL, not the table, and the slot keeps the
   WAL until the subscriber confirms it; the publications are `publish = 'insert'`, so a DELETE is
   not replicated. Deleting a row therefore never stops its delivery *through the stream*. But
   after a failover `xueji federation resubscribe` creates the subscriptions again with
   copy_data: what the old slot had not sent reaches the other side only through that copy of
   the table, so a row deleted before the other side had it would be lost. Hence a row is dropped
   only when its destination **said it applied it**: the destination sends back a
   `federation.ack` message naming the keys its inbox holds, written after the inbox rows
   committed, through the same transactional outbox (`Acknowledgement` here). This is the
   soundest fact available: the destination's own statement that the effect committed, not a
   guess from this side. The alternatives fall short: `pg_replication_slots.confirmed_flush_lsn`
   says the subscriber *flushed* the row, not that it applied it; a row does not know its commit
   LSN; and after a failover the slot is a new one, created at the promoted node's current LSN,
   ahead of every older row while the table copy may not have started yet. The hub's inbox
   cannot be read from a province (only replication and the signed API join them).
   The row must also be older than the retention, and so must its acknowledgement: a
   destination whose standby is promoted behind its primary loses what it applied in its last
   moments (and the acknowledgement it sent may already be here); a standby a whole retention
   period behind is not a standby.
2. **Copies of the messages this node received** (the hub's `federation_outbox`, a province's
   `federation_huboutbox`). Once applied, the inbox holds the key, and the inbox is never
   trimmed: a copy that arrives again (the stream after a restart, or a table copy after a
   failover) is skipped by the outboxes' REPLICA trigger (migration 0009) and in any case never
   applied again (`waiting` leaves out keys in the inbox, `inbox_apply` refuses them). So the
   copy, and its payload, goes once it is applied and older than the retention. A copy not yet
   applied (waiting for its predecessor, or with no handler) is kept, whatever its age.
3. **The inbox** keeps every key for ever: a replay must still find it (a province may keep the
   row of a message for longer than this node, and a table copy may bring it again), and a
   stream's next message waits for its predecessor's key. Its rows are small (key, source,
   stream, sequence, topic, times: no payload).
4. **Acknowledgements** are not acknowledged (that would never end): an own `federation.ack`
   row is dropped once older than the retention. Losing one (only possible when a failover's
   table copy comes after more than a retention period without replication) keeps the messages
   it named in the other node's outbox: more kept, never less delivered. A replayed
   acknowledgement changes nothing (its keys are recorded once).

The newest `audit.checkpoint` message of a province is kept: the worker compares it with the
latest checkpoint to send each new one once (xueji.federation.worker.checkpoint_forward).
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.federation.messages import handles, incoming_model
from xueji.federation.models import Acknowledgement, HubOutbox, Inbox, Message, Outbox
from xueji.federation.nodes import HUB, this_node

ACK_TOPIC = "federation.ack"
ACK_KEYS_PER_MESSAGE = 5000
DEFAULT_RETENTION_DAYS = 30
MIN_RETENTION_DAYS = 7
TRIM_ACTION = "federation.trim"


def retention_days() -> int:
    return int(getattr(settings, "XUEJI_FEDERATION_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def retention_problem(days: Any) -> str:
    """Why XUEJI_FEDERATION_RETENTION_DAYS cannot be used ("" when it can): a whole number of
    at least MIN_RETENTION_DAYS days, the margin against a standby promoted behind its primary
    (see above) and the time operators have to look into a message."""
    if not isinstance(days, int) or isinstance(days, bool) or days < MIN_RETENTION_DAYS:
        return (
            f"XUEJI_FEDERATION_RETENTION_DAYS is {days!r}; messages between nodes must be kept "
            f"at least {MIN_RETENTION_DAYS} days."
        )
    return ""


def _own_model() -> type[Outbox] | type[HubOutbox]:
    return HubOutbox if this_node().is_hub else Outbox


def _code() -> str:
    node = this_node()
    return (node.province or HUB) if node.federated else ""


def _acknowledging(code: str) -> QuerySet[Inbox]:
    """Inbox rows this node has not yet acknowledged: a province acknowledges the hub's messages,
    the hub the provinces'; acknowledgements themselves are not acknowledged."""
    rows = Inbox.objects.filter(acknowledged_at__isnull=True).exclude(topic=ACK_TOPIC)
    return rows.filter(source=HUB) if code != HUB else rows.exclude(source=HUB)


def _own_trimmable(code: str, older_than: datetime.datetime) -> QuerySet[Message]:
    """This node's outbox rows its destination acknowledged, both before `older_than`, and its
    own acknowledgements before then; never the newest audit checkpoint sent."""
    model: Any = _own_model()
    acknowledged = Acknowledgement.objects.filter(
        key=OuterRef("pk"), acknowledged_at__lt=older_than
    )
    rows = model.objects.filter(source=code, created_at__lt=older_than).filter(
        Q(Exists(acknowledged)) | Q(topic=ACK_TOPIC)
    )
    newest_checkpoint = (
        model.objects.filter(source=code, topic="audit.checkpoint")
        .order_by("-created_at", "-seq")
        .values_list("pk", flat=True)
        .first()
    )
    if newest_checkpoint is not None:
        rows = rows.exclude(pk=newest_checkpoint)
    return rows  # type: ignore[no-any-return]


def _received_trimmable(code: str, older_than: datetime.datetime) -> QuerySet[Message]:
    """Copies of the messages this node received and applied (the inbox holds their keys)."""
    applied = Inbox.objects.filter(key=OuterRef("pk"))
    return (
        incoming_model()
        .objects.filter(destination=code, created_at__lt=older_than)
        .exclude(source=code)
        .filter(Exists(applied))
    )  # type: ignore[return-value]


def _kept_own(code: str, older_than: datetime.datetime) -> int:
    """Own rows past the retention kept because their destination has not acknowledged them."""
    return (
        _own_model()
        .objects.filter(source=code, created_at__lt=older_than)
        .exclude(topic=ACK_TOPIC)
        .exclude(
            Exists(
                Acknowledgement.objects.filter(key=OuterRef("pk"), acknowledged_at__lt=older_than)
            )
        )
        .count()
    )


def _kept_received(code: str, older_than: datetime.datetime) -> int:
    """Received rows past the retention kept because they are not applied here yet."""
    return (
        incoming_model()
        .objects.filter(destination=code, created_at__lt=older_than)
        .exclude(source=code)
        .exclude(Exists(Inbox.objects.filter(key=OuterRef("pk"))))
        .count()
    )


def acknowledgements_send(*, code: str) -> tuple[int, int]:
    """Tell each source which of its messages this node has applied (in the caller's
    transaction): (keys acknowledged, messages sent). The inbox rows are committed already, so
    the statement is true when it leaves; each acknowledgement is a stream of its own (one
    message), which no later one waits for."""
    now = timezone.now()
    by_source: dict[str, list[uuid.UUID]] = defaultdict(list)
    for key, source in (
        _acknowledging(code).select_for_update().order_by("applied_at").values_list("key", "source")
    ):
        by_source[source].append(key)
    model = _own_model()
    messages = 0
    for source, keys in sorted(by_source.items()):
        for start in range(0, len(keys), ACK_KEYS_PER_MESSAGE):
            part = keys[start : start + ACK_KEYS_PER_MESSAGE]
            model(
                source=code,
                destination=source,
                stream=f"ack:{uuid.uuid4()}",
                seq=1,
                topic=ACK_TOPIC,
                payload={"keys": [str(key) for key in part]},
            ).save(force_insert=True)
            Inbox.objects.filter(key__in=part).update(acknowledged_at=now)
            messages += 1
    return sum(len(keys) for keys in by_source.values()), messages


@handles(ACK_TOPIC)
def on_ack(message: Message) -> None:
    """The destination of some of this node's messages applied them: recorded once, and only
    for messages this node sent to it."""
    keys = [str(key) for key in message.payload.get("keys", [])]
    now = timezone.now()
    for start in range(0, len(keys), ACK_KEYS_PER_MESSAGE):
        sent = (
            _own_model()
            .objects.filter(
                key__in=keys[start : start + ACK_KEYS_PER_MESSAGE],
                source=_code(),
                destination=message.source,
            )
            .values_list("key", flat=True)
        )
        Acknowledgement.objects.bulk_create(
            [
                Acknowledgement(key=key, destination=message.source, acknowledged_at=now)
                for key in sent
            ],
            ignore_conflicts=True,
        )


@dataclass(frozen=True)
class TrimResult:
    """What a trim run did (or, dry, would do)."""

    older_than: str
    dry_run: bool
    sent_trimmed: int  # own outbox rows dropped (acknowledged, or own acknowledgements)
    received_trimmed: int  # copies of received messages dropped (applied here)
    sent_kept: int  # own rows past the retention not yet acknowledged: kept
    received_kept: int  # received rows past the retention not yet applied: kept
    acknowledged: int  # inbox keys acknowledged to their sources in this run
    ack_messages: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def messages_trim(
    *, actor: Any = None, older_than: datetime.datetime, dry_run: bool = False
) -> TrimResult:
    """One retention run, one transaction with its audit entry: acknowledge what this node
    applied, then drop the own rows acknowledged and the received copies applied, both before
    `older_than` (see the module's docstring for why each is safe). A dry run counts and changes
    nothing (no acknowledgement sent, no audit entry)."""
    code = _code()
    with transaction.atomic():
        if dry_run:
            acknowledged, ack_messages = _acknowledging(code).count(), 0
        else:
            acknowledged, ack_messages = acknowledgements_send(code=code)
        own = _own_trimmable(code, older_than)
        received = _received_trimmable(code, older_than)
        sent_kept = _kept_own(code, older_than)
        received_kept = _kept_received(code, older_than)
        if dry_run:
            sent_trimmed, received_trimmed = own.count(), received.count()
        else:
            sent_trimmed = own.delete()[0]
            # The acknowledgements of the rows gone (only rows that exist are acknowledged).
            acknowledgements = Acknowledgement.objects.exclude(
                Exists(_own_model().objects.filter(pk=OuterRef("key")))
            )
            if code == HUB:
                acknowledgements = acknowledgements.exclude(destination=HUB)
            else:
                acknowledgements = acknowledgements.filter(destination=HUB)
            acknowledgements.delete()
            received_trimmed = received.delete()[0]
        result = TrimResult(
            older_than=older_than.isoformat(),
            dry_run=dry_run,
            sent_trimmed=sent_trimmed,
            received_trimmed=received_trimmed,
            sent_kept=sent_kept,
            received_kept=received_kept,
            acknowledged=acknowledged,
            ack_messages=ack_messages,
        )
        if not dry_run:
            audit_record(actor=actor, action=TRIM_ACTION, detail=result.as_dict())
    return result


def last_trim_at() -> datetime.datetime | None:
    """When this node last trimmed (its audit entry), for the worker's daily schedule."""
    from xueji.audit.models import AuditEntry

    return (
        AuditEntry.objects.filter(action=TRIM_ACTION)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
