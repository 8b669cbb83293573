"""On PostgreSQL the database itself refuses to change or remove audit entries."""

import datetime
import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from xueji.audit import services
from xueji.audit.integrity import chain_verify
from xueji.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from xueji.audit.services import audit_purge, audit_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_application_cannot_update_an_entry(write_entries):
    entry = write_entries(1)[0]
    entry.action = "test.rewritten"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(detail={})
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.write"


def test_the_application_cannot_delete_entries_the_head_or_checkpoints(write_entries):
    write_entries(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(seq=1).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditChainHead.objects.all().delete()
    AuditCheckpoint.objects.create(
        first_seq=1, anchor_hash="0" * 64, purged=0, cutoff=timezone.now()
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.all().delete()
    assert AuditEntry.objects.count() == 2


def test_the_purge_switch_does_not_open_recent_entries(write_entries):
    write_entries(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL xueji.audit_purge = 'on'")
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 1


def test_a_purge_deletes_old_entries_through_the_trigger(write_entries, monkeypatch, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 180
    old = timezone.now() - datetime.timedelta(days=200)
    monkeypatch.setattr(services, "_now", lambda: old)
    write_entries(2)
    monkeypatch.undo()
    write_entries(1)
    checkpoint = audit_purge(actor=None)
    assert checkpoint is not None and checkpoint.purged == 2
    assert chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    writers, per_writer = 6, 15
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            barrier.wait()
            for index in range(per_writer):
                with transaction.atomic():
                    audit_record(actor=None, action="test.race", detail={"w": number, "i": index})
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * per_writer + 1))
    result = chain_verify(batch_size=7)
    assert result.ok, result.problem
