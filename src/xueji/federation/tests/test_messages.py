"""The outbox and inbox: each message takes effect once, after its stream's predecessor."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from xueji.federation.messages import inbox_apply, inbox_drain, message_send, waiting
from xueji.federation.models import CheckpointCopy, Inbox, Outbox

pytestmark = pytest.mark.django_db


def _send(n: int, stream: str = "audit-checkpoints") -> list[Outbox]:
    sent = []
    with override_settings(XUEJI_NODE="province:44"):
        for number in range(1, n + 1):
            with transaction.atomic():
                sent.append(
                    message_send(
                        topic="audit.checkpoint",
                        payload={"number": number},
                        destination="00",
                        stream=stream,
                    )
                )
    return sent  # type: ignore[return-value]


def test_messages_of_a_stream_are_numbered_in_order() -> None:
    sent = _send(3)
    assert [m.seq for m in sent] == [1, 2, 3]
    assert {m.source for m in sent} == {"44"}
    other = _send(1, stream="record:x")
    assert other[0].seq == 1


def test_a_message_waits_for_its_predecessor_and_takes_effect_once() -> None:
    first, second, third = _send(3)
    with override_settings(XUEJI_NODE="national"):
        assert inbox_apply(third) is False  # its predecessor has not been applied
        assert inbox_apply(second) is False
        assert not CheckpointCopy.objects.exists()
        assert inbox_apply(first) is True
        assert inbox_apply(first) is False  # applied before: refused by the inbox's key
        assert inbox_drain() == 2
        assert inbox_drain() == 0
        assert waiting() == []
    numbers = list(
        CheckpointCopy.objects.order_by("received_at", "pk").values_list(
            "checkpoint__number", flat=True
        )
    )
    assert numbers == [1, 2, 3]
    assert CheckpointCopy.objects.filter(province="44").count() == 3
    assert Inbox.objects.count() == 3


def test_a_message_is_written_only_inside_the_step_that_it_reports() -> None:
    with override_settings(XUEJI_NODE="province:44"):
        try:
            with transaction.atomic():
                message_send(topic="audit.checkpoint", payload={}, destination="00", stream="s")
                raise ValueError("the step failed")
        except ValueError:
            pass
    assert not Outbox.objects.exists()


def test_a_failing_handler_leaves_the_message_waiting(monkeypatch) -> None:
    from xueji.federation import messages

    (message,) = _send(1)

    def broken(_message: object) -> None:
        raise RuntimeError("the hub's database went away")

    monkeypatch.setitem(messages.HANDLERS, "audit.checkpoint", broken)
    with override_settings(XUEJI_NODE="national"), pytest.raises(RuntimeError):
        inbox_apply(message)
    assert not Inbox.objects.exists()
    monkeypatch.undo()
    with override_settings(XUEJI_NODE="national"):
        assert inbox_drain() == 1
    assert CheckpointCopy.objects.count() == 1


def test_a_message_that_fails_holds_its_stream_only_and_is_reported(monkeypatch, caplog) -> None:
    """A handler's failure does not stop the worker's round: the failing message waits (its
    stream's later messages behind it), the other streams are applied, and the error is in the
    worker's log once, naming the message."""
    from xueji.federation import messages

    bad, behind = _send(2, stream="record:bad")
    (other,) = _send(1, stream="record:other")
    original = messages.HANDLERS["audit.checkpoint"]

    def broken_for_one(message):
        if message.pk == bad.pk:
            raise ValueError("a payload this node cannot apply")
        original(message)

    monkeypatch.setitem(messages.HANDLERS, "audit.checkpoint", broken_for_one)
    with override_settings(XUEJI_NODE="national"), caplog.at_level("ERROR"):
        assert inbox_drain() == 1
        assert inbox_drain() == 0
        assert set(Inbox.objects.values_list("key", flat=True)) == {other.pk}
        assert {m.pk for m in waiting()} == {bad.pk, behind.pk}
    reports = [r for r in caplog.records if str(bad.pk) in r.getMessage()]
    assert len(reports) == 1 and "record:bad" in reports[0].getMessage()
    monkeypatch.undo()
    with override_settings(XUEJI_NODE="national"):
        assert inbox_drain() == 2  # mended: the stream goes on, in order
        assert waiting() == []


def test_a_database_that_went_away_is_the_workers_to_handle(monkeypatch) -> None:
    from django.db import OperationalError

    from xueji.federation import messages

    _send(1)

    def gone(_message: object) -> None:
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setitem(messages.HANDLERS, "audit.checkpoint", gone)
    with override_settings(XUEJI_NODE="national"), pytest.raises(OperationalError):
        inbox_drain()
