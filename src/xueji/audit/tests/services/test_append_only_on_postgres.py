"""On PostgreSQL the database itself refuses to change or remove the trail; entries go only in
the purge function; writers of different counties never wait for each other."""

import datetime
import threading
import time

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from xueji.access.models import Role
from xueji.audit import services
from xueji.audit.checkpoints import audit_checkpoint_seal
from xueji.audit.integrity import chain_verify
from xueji.audit.models import (
    AuditChain,
    AuditChainHead,
    AuditCheckpoint,
    AuditCheckpointLeaf,
    AuditEntry,
    AuditPurge,
)
from xueji.audit.services import audit_purge, audit_record
from xueji.geo.models import Division
from xueji.testing.factories import SchoolFactory, member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Connected as the tables' owner the triggers refuse; as the application's role (.ci/run) its
# privileges refuse first.
REFUSED = "append-only|permission denied"


def old_entries(write_entries, monkeypatch, count: int, days: int = 200) -> None:
    old = timezone.now() - datetime.timedelta(days=days)
    monkeypatch.setattr(services, "_now", lambda: old)
    write_entries(count)
    monkeypatch.undo()
    audit_checkpoint_seal(now=old)


def test_the_application_cannot_update_an_entry(write_entries):
    entry = write_entries(1)[0]
    entry.action = "test.rewritten"
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(detail={})
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.write"


def test_the_application_cannot_delete_or_change_anything_of_the_trail(write_entries, monkeypatch):
    old_entries(write_entries, monkeypatch, 2)
    for model in (AuditEntry, AuditChain, AuditCheckpointLeaf, AuditCheckpoint, AuditChainHead):
        with (
            pytest.raises(DatabaseError, match=REFUSED),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
    for rows, change in (
        (AuditCheckpoint.objects.all(), {"root": "ab" * 32}),
        (AuditCheckpointLeaf.objects.all(), {"seq": 1}),
        (AuditChainHead.objects.all(), {"seq": 5}),
        (AuditChain.objects.all(), {"created_at": timezone.now()}),
    ):
        with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
            rows.update(**change)
    assert AuditEntry.objects.count() == 2


def test_the_old_purge_switch_opens_nothing(write_entries, monkeypatch):
    old_entries(write_entries, monkeypatch, 1)
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL xueji.audit_purge = 'on'")
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 1


def test_the_purge_flag_opens_nothing_to_a_role_that_does_not_own_the_tables(
    write_entries, monkeypatch
):
    """Any session can set the purge function's flag; the trigger also wants the tables' owner,
    which only the function (SECURITY DEFINER) is. Shown with a role given DELETE outright."""
    old_entries(write_entries, monkeypatch, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        if not cursor.fetchone()[0]:
            pytest.skip("creating a role needs CREATEROLE")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("CREATE ROLE xueji_test_intruder")
        cursor.execute("GRANT SELECT, DELETE ON audit_auditentry TO xueji_test_intruder")
        cursor.execute("SET LOCAL ROLE xueji_test_intruder")
        cursor.execute("SELECT set_config('xueji.audit_purging', 'on', true)")
        cursor.execute("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.count() == 1


def test_a_purge_deletes_old_entries_in_the_function(write_entries, monkeypatch, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 180
    old_entries(write_entries, monkeypatch, 2)
    write_entries(1)
    audit_checkpoint_seal()
    purge = audit_purge(actor=None)
    assert purge is not None and (purge.checkpoint, purge.purged) == (1, 2)
    recorded = AuditPurge.objects.get()
    assert (recorded.checkpoint.number, recorded.purged, recorded.retention_days) == (1, 2, 180)
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == [3, 4]
    result = chain_verify()
    assert result.ok, result.problem


def test_the_purge_function_keeps_to_the_rule(write_entries, monkeypatch):
    old_entries(write_entries, monkeypatch, 1, days=100)
    for through, days, refusal in (
        (1, 90, "kept at least 180 days"),
        (1, 180, "not older than 180 days"),
        (7, 180, "no audit checkpoint #7"),
    ):
        with (
            pytest.raises(DatabaseError, match=refusal),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT xueji_audit_purge_through(%s, %s)", [through, days])
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_chain_do_not_fork_it():
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
    seqs = list(
        AuditEntry.objects.filter(chain="system").order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, writers * per_writer + 1))
    result = chain_verify(batch_size=7)
    assert result.ok, result.problem


@pytest.mark.django_db(transaction=True)
def test_two_counties_do_not_wait_for_each_other_and_one_county_takes_turns():
    """While a Futian transaction holds its chain, a Nanshan registrar's entry is written at once;
    a second Futian writer waits (here: gives up after its lock timeout)."""
    futian = member(Role.REGISTRAR, school=SchoolFactory(), username="reg-futian")
    futian_2 = member(Role.REGISTRAR, school=SchoolFactory(), username="reg-futian-2")
    nanshan = member(
        Role.REGISTRAR,
        school=SchoolFactory(county=Division.objects.get(code="440305")),
        username="reg-nanshan",
    )
    holding, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold_futian() -> None:
        try:
            with transaction.atomic():
                audit_record(actor=futian, action="test.holding")
                holding.set()
                release.wait(timeout=30)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connections.close_all()

    def write(actor, outcome: dict[str, object]) -> None:
        try:
            started = time.monotonic()
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '1s'")
                outcome["entry"] = audit_record(actor=actor, action="test.beside")
            outcome["seconds"] = time.monotonic() - started
        except DatabaseError as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_futian)
    holder.start()
    assert holding.wait(timeout=30)
    try:
        other_county: dict[str, object] = {}
        thread = threading.Thread(target=write, args=(nanshan, other_county))
        thread.start()
        thread.join(timeout=30)
        same_county: dict[str, object] = {}
        thread = threading.Thread(target=write, args=(futian_2, same_county))
        thread.start()
        thread.join(timeout=30)
    finally:
        release.set()
        holder.join(timeout=30)
    assert failures == []
    assert "error" not in other_county, other_county
    assert other_county["entry"].chain == "440305"  # type: ignore[attr-defined]
    assert other_county["seconds"] < 1  # type: ignore[operator]
    assert "lock timeout" in str(same_county.get("error"))
    entries = list(
        AuditEntry.objects.order_by("chain", "seq").values_list("chain", "seq", "action")
    )
    assert entries == [("440304", 1, "test.holding"), ("440305", 1, "test.beside")]
