"""The delivery process of a node (`xueji federation worker`): one round applies the messages
replication has brought (the inbox), completes the reservations made while the hub was down
(a province), and puts the latest signed audit checkpoint into the outbox for the hub (a
province). Every step is its own transaction and idempotent: killed at any point, the next round
takes up where it stopped, and nothing is applied twice (the inbox's keys)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction

from xueji.federation.client import pending_retry
from xueji.federation.messages import inbox_drain, message_send
from xueji.federation.models import HubOutbox, Inbox, Outbox, PendingReservation
from xueji.federation.nodes import HUB, this_node

log = logging.getLogger(__name__)

_last_pending = 0.0
PENDING_EVERY = 5.0
_last_scan = 0.0
SCAN_EVERY = 30.0
# The retention of messages (xueji.federation.retention) runs once a day: the first round after a
# start runs it when the audit trail's last trim is a day old (a restarted worker does not trim
# again), then every TRIM_EVERY seconds.
_next_trim: float | None = None
TRIM_EVERY = 24 * 3600.0


def checkpoint_forward() -> int:
    """Send the newest signed audit checkpoint not yet sent to the hub (a province): the hub
    keeps the signed statement, outside the province's own database."""
    from xueji.audit.checkpoints import statement_of
    from xueji.audit.models import AuditCheckpoint

    latest = AuditCheckpoint.objects.order_by("-number").first()
    if latest is None:
        return 0
    with transaction.atomic():
        if Outbox.objects.filter(topic="audit.checkpoint", payload__number=latest.number).exists():
            return 0
        payload = {**statement_of(latest), "number": latest.number, "signature": latest.signature}
        message_send(
            topic="audit.checkpoint",
            payload=json.loads(json.dumps(payload, default=str)),
            destination=HUB,
            stream="audit-checkpoints",
        )
    return 1


def trim_due() -> bool:
    global _next_trim
    if _next_trim is None:
        from django.utils import timezone

        from xueji.federation.retention import last_trim_at

        last = last_trim_at()
        since = TRIM_EVERY if last is None else (timezone.now() - last).total_seconds()
        _next_trim = time.monotonic() + max(0.0, TRIM_EVERY - since)
    return time.monotonic() >= _next_trim


def trim_round() -> int:
    """The daily retention run: how many rows it dropped."""
    global _next_trim
    import datetime

    from django.utils import timezone

    from xueji.federation.retention import messages_trim, retention_days

    _next_trim = time.monotonic() + TRIM_EVERY
    result = messages_trim(older_than=timezone.now() - datetime.timedelta(days=retention_days()))
    return result.sent_trimmed + result.received_trimmed


def worker_round() -> dict[str, int]:
    global _last_pending, _last_scan
    node = this_node()
    done = {"applied": inbox_drain(), "reserved": 0, "held": 0, "checkpoints": 0}
    if node.is_hub and time.monotonic() - _last_scan > SCAN_EVERY:
        # The national duplicate search: new pairs across provinces go to both provinces.
        from xueji.federation.duplicates import hub_duplicates_scan

        _last_scan = time.monotonic()
        done["duplicates"] = hub_duplicates_scan()
    if node.is_province and time.monotonic() - _last_pending > PENDING_EVERY:
        _last_pending = time.monotonic()
        counts = pending_retry()
        done["reserved"], done["held"] = counts["reserved"], counts["held"]
        done["checkpoints"] = checkpoint_forward()
    if node.federated and trim_due():
        try:
            done["trimmed"] = trim_round()
        except (OperationalError, InterfaceError):
            raise  # the database went away: the command waits and tries again
        except Exception:
            # The retention must never stop delivery: logged, tried again tomorrow.
            log.exception("the retention of messages failed; delivery goes on")
    return done


def node_status() -> dict[str, Any]:
    node = this_node()
    status: dict[str, Any] = {
        "node": node.role or "single",
        "province": node.province,
        "outbox": (HubOutbox if node.province == HUB else Outbox).objects.count(),
        "inbox": Inbox.objects.count(),
        "pending_reservations": PendingReservation.objects.filter(state="pending").count(),
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT subname, last_msg_receipt_time, latest_end_lsn::text "
                "FROM pg_stat_subscription WHERE relid IS NULL"
            )
            status["subscriptions"] = cursor.fetchall()
    return status
