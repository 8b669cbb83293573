"""The transactional outbox and inbox between nodes.

A step that must reach another node writes its message in its own transaction (`message_send`):
the message exists exactly when the step took effect. PostgreSQL's logical replication carries
the outbox tables (a province's `federation_outbox` to the hub, the hub's `federation_huboutbox` to
each province with a row filter on the destination: xueji.federation.replication). The receiving
node applies each message in a transaction that also writes its key into `Inbox` (`inbox_apply`):
a message applied twice is refused by the inbox's primary key, so whatever fails in between
(the worker killed, the apply worker restarted, a message replicated again), every step takes
effect once. Messages of one stream (a record, a transfer) carry consecutive sequence numbers and
are applied in that order: one waits until its predecessor is in the inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef

from xueji.federation.models import HubOutbox, Inbox, Message, Outbox, SequenceCounter
from xueji.federation.nodes import HUB, this_node

log = logging.getLogger(__name__)

Handler = Callable[[Message], None]
HANDLERS: dict[str, Handler] = {}
# The keys of the messages whose handler failed in this process (each reported once).
_reported: set[Any] = set()


def handles(topic: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[topic] = handler
        return handler

    return register


def _next_seq(source: str, stream: str) -> int:
    counter_key = f"{source}:{stream}"[:120]
    SequenceCounter.objects.bulk_create(
        [SequenceCounter(source=counter_key, last=0)], ignore_conflicts=True
    )
    counter = SequenceCounter.objects.select_for_update().get(source=counter_key)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def message_send(*, topic: str, payload: dict[str, Any], destination: str, stream: str) -> Message:
    """Write a message for `destination` in the caller's transaction (the outbox)."""
    if not connection.in_atomic_block:
        raise RuntimeError("message_send runs inside the transaction of the step it reports")
    node = this_node()
    source = node.province or HUB
    model: type[Outbox] | type[HubOutbox] = HubOutbox if source == HUB else Outbox
    message = model(
        source=source,
        destination=destination,
        stream=stream[:120],
        seq=_next_seq(source, stream),
        topic=topic,
        payload=payload,
    )
    message.save(force_insert=True)
    return message


def incoming_model() -> type[Outbox] | type[HubOutbox]:
    """What this node receives: the provinces' outboxes at the hub, the hub's at a province."""
    return Outbox if this_node().province in ("", HUB) else HubOutbox


def waiting(limit: int = 200) -> list[Message]:
    """Messages for this node not yet in the inbox, oldest first."""
    node = this_node()
    model = incoming_model()
    destination = node.province or HUB
    applied = Inbox.objects.filter(pk=OuterRef("pk"))
    return list(
        model.objects.filter(destination=destination)
        .exclude(Exists(applied))
        .order_by("created_at", "seq")[:limit]
    )


def inbox_apply(message: Message) -> bool:
    """Apply one message exactly once, after its stream's predecessor: True when it took effect
    now, False when it had already been applied or must wait."""
    handler = HANDLERS.get(message.topic)
    if handler is None:
        log.warning("no handler for %s", message.topic)
        return False
    with transaction.atomic():
        if (
            message.seq > 1
            and not Inbox.objects.filter(
                source=message.source, stream=message.stream, seq=message.seq - 1
            ).exists()
        ):
            return False
        try:
            with transaction.atomic():
                Inbox.objects.create(
                    key=message.pk,
                    source=message.source,
                    stream=message.stream,
                    seq=message.seq,
                    topic=message.topic,
                )
        except IntegrityError:
            return False  # applied before (or by another worker, which waited for us)
        handler(message)
    return True


def _apply_or_report(message: Message) -> bool:
    """`inbox_apply`, except that a message whose handler fails is reported (an error in the
    worker's log, with the message's key, topic and stream, once per process) and left waiting,
    rolled back whole: its stream's later messages wait behind it, the other streams go on. A
    database that went away is not the message's fault: that error goes up to the worker, which
    reconnects."""
    try:
        return inbox_apply(message)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        if message.pk not in _reported:
            _reported.add(message.pk)
            log.exception(
                "message %s (%s, stream %s #%s from %s) failed and waits: its stream is held",
                message.pk,
                message.topic,
                message.stream,
                message.seq,
                message.source,
            )
        return False


def inbox_drain(*, limit: int = 200, rounds: int = 20) -> int:
    """Apply every waiting message (several rounds, so that a stream's later messages follow
    their predecessors applied in the round before). Returns how many took effect."""
    applied = 0
    for _ in range(rounds):
        batch = waiting(limit)
        done = sum(1 for message in batch if _apply_or_report(message))
        applied += done
        if not done:
            break
    return applied
