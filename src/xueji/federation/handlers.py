"""What each message does where it arrives (registered by topic; xueji.federation.messages
applies each exactly once, in its stream's order)."""

from __future__ import annotations

from xueji.federation import (  # noqa: F401  (transfers, duplicates, retention: handlers)
    duplicates,
    hub,
    retention,
    transfers,
)
from xueji.federation.messages import handles
from xueji.federation.models import CheckpointCopy, Message


@handles("index.confirm")
def index_confirm(message: Message) -> None:
    """A province's registration committed (hub): its reservation holds for good."""
    hub.hub_confirm(province=message.source, record=str(message.payload["record"]))


@handles("audit.checkpoint")
def audit_checkpoint(message: Message) -> None:
    """A province's signed audit checkpoint, kept at the hub outside the province's database."""
    CheckpointCopy.objects.create(province=message.source, checkpoint=message.payload)


@handles("drill.ping")
def drill_ping(message: Message) -> None:
    """A drill's message (deploy/drills.py failover): it has no effect but its key in the
    inbox, which shows it was applied once."""
