"""The limit of look-ups per user and hour: every answer audited, the count read from the trail
under a lock per user, exact across threads (and so across processes) on PostgreSQL; a batch
(an import's rows) answers what the hour has left, one entry each, and refuses the rest."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from xueji.access.lookups import (
    LOOKUP_ACTION,
    LOOKUP_REFUSED_ACTION,
    LookupAsked,
    LookupKind,
    LookupLimitReached,
    LookupOutcome,
    lookup_answer,
    lookup_answers,
)
from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.testing.factories import SchoolFactory, member


def _answer(user, outcome=LookupOutcome.NOT_FOUND):
    lookup_answer(actor=user, kind=LookupKind.TRANSFER, outcome=outcome)


@pytest.mark.django_db
def test_answers_up_to_the_limit_then_429_and_a_refusal_entry(settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 3
    registrar = member(Role.REGISTRAR, school=SchoolFactory())
    for _ in range(3):
        _answer(registrar)
    with pytest.raises(LookupLimitReached) as refused:
        _answer(registrar)
    assert refused.value.status == 429
    assert refused.value.code == "lookup_limit_reached"
    assert refused.value.details["limit"] == 3
    assert 0 < refused.value.details["retry_after_seconds"] <= 3600
    entries = AuditEntry.objects.filter(actor=registrar).order_by("id")
    assert [e.action for e in entries] == [LOOKUP_ACTION] * 3 + [LOOKUP_REFUSED_ACTION]
    assert entries.last().detail == {"kind": "transfer", "limit": 3, "answered_in_the_hour": 3}
    # Another user's allowance is their own.
    other = member(Role.REGISTRAR, school=SchoolFactory())
    _answer(other)


@pytest.mark.django_db
def test_the_hour_slides(settings, monkeypatch):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 2
    registrar = member(Role.REGISTRAR, school=SchoolFactory())
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    _answer(registrar)
    clock["now"] = start + datetime.timedelta(minutes=30)
    _answer(registrar)
    clock["now"] = start + datetime.timedelta(minutes=59)
    with pytest.raises(LookupLimitReached):
        _answer(registrar)
    # The first answer has left the hour: one more is allowed, not two.
    clock["now"] = start + datetime.timedelta(minutes=61)
    _answer(registrar)
    with pytest.raises(LookupLimitReached):
        _answer(registrar)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_count_is_exact_when_one_user_asks_from_many_connections_at_once(settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 5
    registrar = member(Role.REGISTRAR, school=SchoolFactory())
    workers = 12
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []

    def ask() -> None:
        try:
            barrier.wait()
            _answer(registrar, LookupOutcome.FOUND)
            outcomes.append("answered")
        except LookupLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["answered"] * 5 + ["refused"] * 7
    assert AuditEntry.objects.filter(actor=registrar, action=LOOKUP_ACTION).count() == 5
    assert AuditEntry.objects.filter(actor=registrar, action=LOOKUP_REFUSED_ACTION).count() == 7


def _asked(count, outcome=LookupOutcome.REGISTERED_ELSEWHERE):
    return [LookupAsked(outcome=outcome, detail={"row": n}) for n in range(count)]


@pytest.mark.django_db
def test_a_batch_answers_what_the_hour_has_left_one_entry_each_and_refuses_the_rest(settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 5
    registrar = member(Role.REGISTRAR, school=SchoolFactory())
    _answer(registrar)
    counted = lookup_answers(
        actor=registrar,
        kind=LookupKind.IMPORT,
        asked=_asked(7),
        refusal_detail={"import": "a file"},
    )
    assert counted.answered == 4
    assert counted.refused is not None and counted.refused.status == 429
    assert counted.retry_at is not None
    answered = AuditEntry.objects.filter(
        actor=registrar, action=LOOKUP_ACTION, detail__kind="import"
    )
    assert sorted(entry.detail["row"] for entry in answered) == [0, 1, 2, 3]
    [refusal] = AuditEntry.objects.filter(actor=registrar, action=LOOKUP_REFUSED_ACTION)
    assert refusal.object_id is None
    assert refusal.detail == {
        "kind": "import",
        "limit": 5,
        "answered_in_the_hour": 5,
        "withheld": 3,
        "import": "a file",
    }
    # The hour is used up: a single look-up is refused as before, a batch answers nothing.
    with pytest.raises(LookupLimitReached):
        _answer(registrar)
    assert lookup_answers(actor=registrar, kind=LookupKind.IMPORT, asked=_asked(2)).answered == 0
    assert AuditEntry.objects.filter(actor=registrar, action=LOOKUP_ACTION).count() == 5


@pytest.mark.django_db
def test_a_batch_within_the_hour_is_answered_whole_and_nothing_asked_writes_nothing(settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 3
    registrar = member(Role.REGISTRAR, school=SchoolFactory())
    assert lookup_answers(actor=registrar, kind=LookupKind.IMPORT, asked=[]).answered == 0
    assert not AuditEntry.objects.filter(actor=registrar).exists()
    counted = lookup_answers(actor=registrar, kind=LookupKind.IMPORT, asked=_asked(3))
    assert (counted.answered, counted.refused) == (3, None)
    assert not AuditEntry.objects.filter(actor=registrar, action=LOOKUP_REFUSED_ACTION).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_and_single_lookups_at_once_never_answer_more_than_the_limit(settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 10
    registrar = member(Role.REGISTRAR, school=SchoolFactory())
    workers = 8
    barrier = threading.Barrier(workers)
    given: list[int] = []

    def ask(batch: bool) -> None:
        try:
            barrier.wait()
            if batch:
                counted = lookup_answers(actor=registrar, kind=LookupKind.IMPORT, asked=_asked(4))
                given.append(counted.answered)
            else:
                try:
                    _answer(registrar, LookupOutcome.FOUND)
                    given.append(1)
                except LookupLimitReached:
                    given.append(0)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(n % 2 == 0,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(given) == 10
    assert AuditEntry.objects.filter(actor=registrar, action=LOOKUP_ACTION).count() == 10
