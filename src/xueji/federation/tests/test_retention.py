"""The retention of messages between nodes (xueji.federation.retention): what is dropped, what is
kept whatever its age, and that nothing is lost or applied twice.

The hub and the provinces share the test database (their tables are distinct except the
provinces' outbox, which is also the hub's copy of it): each node's trim is run under its own
XUEJI_NODE."""

from __future__ import annotations

import base64
import datetime
import io
import json
import uuid
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from xueji.audit.models import AuditEntry
from xueji.federation import messages, worker
from xueji.federation.checks import check_retention
from xueji.federation.messages import inbox_drain, message_send, waiting
from xueji.federation.models import (
    Acknowledgement,
    CheckpointCopy,
    HubOutbox,
    Inbox,
    Message,
    Outbox,
)
from xueji.federation.retention import ACK_TOPIC, TrimResult, messages_trim

pytestmark = pytest.mark.django_db

HUB = "national"
P44 = "province:44"
P11 = "province:11"


def _old() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=40)


def _send(node: str, topic: str, payload: dict[str, Any], stream: str, to: str = "00") -> Message:
    with override_settings(XUEJI_NODE=node), transaction.atomic():
        return message_send(topic=topic, payload=payload, destination=to, stream=stream)


def _drain(node: str) -> int:
    with override_settings(XUEJI_NODE=node):
        return inbox_drain()


def _trim(node: str, days: int = 30, **options: Any) -> TrimResult:
    with override_settings(XUEJI_NODE=node):
        return messages_trim(older_than=timezone.now() - datetime.timedelta(days=days), **options)


def _age_messages() -> None:
    Outbox.objects.update(created_at=_old())
    HubOutbox.objects.update(created_at=_old())


def test_the_hub_drops_old_applied_copies_and_keeps_their_keys_so_a_replay_is_not_applied():
    sent = [_send(P44, "audit.checkpoint", {"number": n}, "audit-checkpoints") for n in (1, 2, 3)]
    assert _drain(HUB) == 3
    _age_messages()

    result = _trim(HUB)

    assert result.received_trimmed == 3 and result.received_kept == 0
    assert not Outbox.objects.exists()
    assert Inbox.objects.filter(source="44").count() == 3  # the keys stay
    # The same messages come again (the stream after a restart, a table copy after a failover):
    for message in sent:
        message.save(force_insert=True)
    with override_settings(XUEJI_NODE=HUB):
        assert waiting() == []
        assert all(messages.inbox_apply(message) is False for message in sent)
    assert CheckpointCopy.objects.count() == 3  # each applied once
    # The stream goes on after its trimmed predecessors: their keys still order it.
    _send(P44, "audit.checkpoint", {"number": 4}, "audit-checkpoints")
    assert _drain(HUB) == 1
    assert CheckpointCopy.objects.count() == 4


def test_a_message_not_applied_is_kept_whatever_its_age():
    _send(P44, "no.handler.here", {"x": 1}, "odd")  # no handler at the hub: never applied
    _send(P44, "drill.ping", {}, "later")
    Outbox.objects.filter(stream="later").update(seq=2)  # waits for a predecessor never sent
    assert _drain(HUB) == 0
    Outbox.objects.update(created_at=timezone.now() - datetime.timedelta(days=400))

    hub = _trim(HUB)
    province = _trim(P44)

    assert hub.received_trimmed == 0 and hub.received_kept == 2
    assert province.sent_trimmed == 0 and province.sent_kept == 2
    assert Outbox.objects.count() == 2


def test_a_province_keeps_what_it_sent_until_the_hub_said_it_applied_it_a_retention_ago():
    first = _send(P44, "drill.ping", {"n": 1}, "drill:a")
    second = _send(P44, "drill.ping", {"n": 2}, "drill:a")
    assert _drain(HUB) == 2
    _age_messages()

    unacknowledged = _trim(P44)
    assert (unacknowledged.sent_trimmed, unacknowledged.sent_kept) == (0, 2)

    # The hub acknowledges what it applied (a trim whose cutoff leaves its copies here).
    at_hub = _trim(HUB, days=365)
    assert (at_hub.acknowledged, at_hub.ack_messages) == (2, 1)
    ack = HubOutbox.objects.get(topic=ACK_TOPIC)
    assert ack.destination == "44"
    assert set(ack.payload["keys"]) == {str(first.key), str(second.key)}
    assert not Inbox.objects.filter(source="44", acknowledged_at__isnull=True).exists()
    assert _trim(HUB, days=365).acknowledged == 0  # once
    assert _drain(P44) == 1
    assert set(Acknowledgement.objects.values_list("key", flat=True)) == {first.key, second.key}

    # Acknowledged just now: kept until the acknowledgement too is a retention old.
    assert _trim(P44).sent_trimmed == 0
    assert Outbox.objects.filter(topic="drill.ping").count() == 2
    Acknowledgement.objects.update(acknowledged_at=_old())
    acknowledged = _trim(P44)
    assert acknowledged.sent_trimmed == 2
    assert not Outbox.objects.filter(topic="drill.ping").exists()
    assert not Acknowledgement.objects.exists()
    # The hub's own acknowledgement is not acknowledged: it goes once a retention old.
    HubOutbox.objects.update(created_at=_old())
    assert _trim(HUB).sent_trimmed == 1
    assert not HubOutbox.objects.exists()


def test_an_acknowledgement_counts_only_for_messages_sent_to_its_sender():
    to_44 = _send(HUB, "drill.ping", {}, "drill:b", to="44")
    forged = Outbox(
        source="11",
        destination="00",
        stream="ack:forged",
        seq=1,
        topic=ACK_TOPIC,
        payload={"keys": [str(to_44.key)]},
    )
    forged.save(force_insert=True)
    assert _drain(HUB) == 1
    assert not Acknowledgement.objects.exists()


def test_the_newest_audit_checkpoint_sent_is_kept_for_the_worker_to_compare():
    for number in (1, 2):
        _send(P44, "audit.checkpoint", {"number": number}, "audit-checkpoints")
    assert _drain(HUB) == 2
    _trim(HUB, days=365)
    assert _drain(P44) == 1
    Acknowledgement.objects.update(acknowledged_at=_old())
    _age_messages()

    assert _trim(P44).sent_trimmed == 1

    (kept,) = Outbox.objects.filter(topic="audit.checkpoint")
    assert kept.payload == {"number": 2}


def test_a_filings_documents_are_gone_from_every_node_once_applied_and_acknowledged(monkeypatch):
    marker = b"%PDF-guardian-request-" + uuid.uuid4().hex.encode()
    document = base64.b64encode(marker * 20000).decode()  # about 1 MB sealed-like text
    transfer = str(uuid.uuid4())
    _send(
        P11,
        "transfer.filed",
        {"to": "44", "transfer": transfer, "evidence": [{"name": "request.pdf", "data": document}]},
        f"transfer:{transfer}",
    )
    assert _drain(HUB) == 1  # the hub forwards it to 44, documents included
    forwarded = HubOutbox.objects.get(topic="transfer.filed")
    assert forwarded.destination == "44" and document in json.dumps(forwarded.payload)
    monkeypatch.setitem(messages.HANDLERS, "transfer.filed", lambda message: None)
    assert _drain(P44) == 1  # applied at 44 (its CrossEvidence would hold the documents)
    monkeypatch.undo()

    # Each node acknowledges what it applied; the other applies the acknowledgement.
    _trim(P44, days=365)
    _trim(HUB, days=365)
    assert _drain(HUB) == 1 and _drain(P11) == 1
    assert Acknowledgement.objects.count() == 2  # 11's filing, the hub's forwarded copy
    _age_messages()
    Acknowledgement.objects.update(acknowledged_at=_old())

    trimmed = [_trim(node) for node in (P11, HUB, P44)]

    assert sum(r.sent_trimmed + r.received_trimmed for r in trimmed) >= 3
    rows = [*Outbox.objects.all(), *HubOutbox.objects.all()]
    assert all(document not in json.dumps(row.payload) for row in rows)
    assert not Outbox.objects.filter(topic="transfer.filed").exists()
    assert not HubOutbox.objects.filter(topic="transfer.filed").exists()
    # The keys stay: at the hub (11's filing) and at 44 (the hub's copy).
    assert Inbox.objects.filter(topic="transfer.filed").count() == 2


def test_a_dry_run_counts_and_changes_nothing():
    for n in (1, 2):
        _send(P44, "drill.ping", {"n": n}, "drill:c")
    assert _drain(HUB) == 2
    _age_messages()
    audits = AuditEntry.objects.filter(action="federation.trim")
    before = (Outbox.objects.count(), HubOutbox.objects.count(), audits.count())

    dry = _trim(HUB, dry_run=True)

    assert (dry.received_trimmed, dry.acknowledged, dry.ack_messages) == (2, 2, 0)
    assert (Outbox.objects.count(), HubOutbox.objects.count(), audits.count()) == before
    assert Inbox.objects.filter(acknowledged_at__isnull=True).count() == 2
    real = _trim(HUB)
    assert (real.received_trimmed, real.acknowledged) == (dry.received_trimmed, dry.acknowledged)


def test_the_command_reports_what_it_dropped_and_kept_and_audits_each_run():
    for n in (1, 2):
        _send(P44, "drill.ping", {"n": n}, "drill:d")
    _send(P44, "no.handler.here", {}, "odd")
    assert _drain(HUB) == 2
    _age_messages()
    out = io.StringIO()
    with override_settings(XUEJI_NODE=HUB):
        call_command("federation", "trim", "--dry-run", stdout=out)
        assert AuditEntry.objects.filter(action="federation.trim").count() == 0
        call_command("federation", "trim", "--days", "30", stdout=out)
        with pytest.raises(CommandError, match="--days is 3"):
            call_command("federation", "trim", "--days", "3", stdout=io.StringIO())
    dry_text, real_text = out.getvalue().split("messages older than 30 days")[1:]
    assert "dry run: nothing changed" in dry_text
    assert "received, applied here: 2 would be deleted" in dry_text
    assert "received, not yet applied: 1 kept" in dry_text
    assert "applied here, would be acknowledged to their source: 2 (0 messages)" in dry_text
    assert "received, applied here: 2 deleted" in real_text
    assert "applied here, acknowledged to their source: 2 (1 messages)" in real_text
    (entry,) = AuditEntry.objects.filter(action="federation.trim")
    assert entry.detail["received_trimmed"] == 2
    assert entry.detail["received_kept"] == 1
    assert entry.detail["acknowledged"] == 2
    assert entry.detail["dry_run"] is False


def test_the_worker_trims_once_a_day_and_not_again_after_a_restart(monkeypatch):
    import time

    monkeypatch.setattr(worker, "_next_trim", None)
    monkeypatch.setattr(worker, "_last_scan", time.monotonic())  # no duplicate search now
    _send(P44, "drill.ping", {}, "drill:e")
    with override_settings(XUEJI_NODE=HUB):
        first = worker.worker_round()  # no trim on record: the first round trims at once
        assert (first["applied"], first["trimmed"]) == (1, 0)
        assert "trimmed" not in worker.worker_round()  # not again today
        Outbox.objects.update(created_at=_old())
        monkeypatch.setattr(worker, "_next_trim", time.monotonic())  # a day has passed
        assert worker.worker_round()["trimmed"] == 1
        monkeypatch.setattr(worker, "_next_trim", None)  # the worker restarted
        assert worker.trim_due() is False  # the audit trail says it trimmed today
    assert AuditEntry.objects.filter(action="federation.trim").count() == 2


def test_a_failing_trim_does_not_stop_delivery(monkeypatch):
    import time

    from xueji.federation import retention

    def broken(**_options: Any) -> TrimResult:
        raise RuntimeError("a bug in the retention")

    monkeypatch.setattr(retention, "messages_trim", broken)
    monkeypatch.setattr(worker, "_next_trim", time.monotonic())
    monkeypatch.setattr(worker, "_last_scan", time.monotonic())
    _send(P44, "drill.ping", {}, "drill:g")
    with override_settings(XUEJI_NODE=HUB):
        done = worker.worker_round()
        assert done["applied"] == 1 and "trimmed" not in done
        assert worker.trim_due() is False  # tried again tomorrow, not at every round


def test_a_fresh_worker_trims_at_once_when_no_trim_is_on_record(monkeypatch):
    monkeypatch.setattr(worker, "_next_trim", None)
    with override_settings(XUEJI_NODE=P44):
        assert worker.trim_due() is True


@pytest.mark.parametrize("days", [0, 6, -30, "30", None, True])
def test_a_retention_below_seven_days_or_not_a_number_is_an_error(settings, days):
    settings.XUEJI_FEDERATION_RETENTION_DAYS = days
    assert [error.id for error in check_retention()] == ["xueji_federation.E001"]


@pytest.mark.parametrize("days", [7, 30, 365])
def test_a_retention_of_seven_days_or_more_passes(settings, days):
    settings.XUEJI_FEDERATION_RETENTION_DAYS = days
    assert check_retention() == []


def test_the_retention_check_is_registered_with_django(settings):
    from django.core import checks

    settings.XUEJI_FEDERATION_RETENTION_DAYS = 1
    assert "xueji_federation.E001" in [message.id for message in checks.run_checks()]


@pytest.mark.postgres
def test_a_copy_of_a_trimmed_message_brought_again_by_replication_is_skipped():
    """The outboxes' REPLICA trigger (migration 0009): a row the apply or table-copy worker
    brings whose key the inbox holds is not inserted again (enabled ALWAYS here, in a
    transaction rolled back, to fire for this session's insert as for the apply worker's)."""
    import psycopg
    from django.conf import settings

    from xueji.testing.database import owner_configured

    if not owner_configured():
        pytest.skip("needs the owner of the tables (XUEJI_OWNER_DATABASE_URL)")
    params = connection.settings_dict
    owner = settings.DATABASES["owner"]
    applied, fresh = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or 5432,
        dbname=params["NAME"],
        user=owner["USER"],
        password=owner.get("PASSWORD") or None,
    ) as owner_connection:
        try:
            owner_connection.execute(
                "ALTER TABLE federation_huboutbox "
                "ENABLE ALWAYS TRIGGER federation_huboutbox_skip_known"
            )
            owner_connection.execute(
                "INSERT INTO federation_inbox (key, source, stream, seq, topic, applied_at) "
                "VALUES (%s, '00', 'drill:f', 1, 'drill.ping', now())",
                [applied],
            )
            for key, seq in ((applied, 1), (fresh, 2)):
                owner_connection.execute(
                    "INSERT INTO federation_huboutbox "
                    "(key, source, destination, stream, seq, topic, payload, created_at) "
                    "VALUES (%s, '00', '44', 'drill:f', %s, 'drill.ping', '{}', now())",
                    [key, seq],
                )
            rows = owner_connection.execute(
                "SELECT key FROM federation_huboutbox WHERE stream = 'drill:f'"
            ).fetchall()
        finally:
            owner_connection.rollback()
    assert rows == [(fresh,)]
