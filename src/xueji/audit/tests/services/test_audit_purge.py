"""Retention: the entries sealed by a whole checkpoint older than the period go, each chain starts
again after the head that checkpoint signed (its anchor), verify passes; nothing else goes.

Before signed checkpoints, a purge removed every entry older than the period and left an unsigned
anchor; it now goes through a whole checkpoint (the tests seal at the ages they write), so the
numbers below are the same but the anchor is a checkpoint's leaf."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from xueji.audit import services
from xueji.audit.checkpoints import PURGE_RULE, audit_checkpoint_seal, purge_bounds
from xueji.audit.integrity import chain_verify
from xueji.audit.models import AuditCheckpoint, AuditEntry, AuditPurge
from xueji.audit.services import ACTION_PURGE, audit_purge, audit_record
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db

TODAY = timezone.now()


def days_ago(days: int) -> datetime.datetime:
    return TODAY - datetime.timedelta(days=days)


@pytest.fixture
def aged_trail(write_entries, monkeypatch):
    """Three entries 400 days old, two 200 days old, two written today, each group sealed when it
    was written (checkpoints #1, #2, #3)."""
    for age, count in ((400, 3), (200, 2)):
        monkeypatch.setattr(services, "_now", lambda age=age: days_ago(age))
        write_entries(count, action=f"test.age_{age}")
        audit_checkpoint_seal(now=days_ago(age))
    monkeypatch.undo()
    write_entries(2, action="test.today")
    audit_checkpoint_seal()


def test_purge_removes_only_entries_older_than_the_retention(aged_trail, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 365
    purge = audit_purge(actor=None)
    assert purge is not None
    assert (purge.checkpoint, purge.purged, purge.chains) == (1, 3, 1)
    remaining = list(AuditEntry.objects.order_by("seq").values_list("seq", "action"))
    assert remaining[:4] == [
        (4, "test.age_200"),
        (5, "test.age_200"),
        (6, "test.today"),
        (7, "test.today"),
    ]
    assert remaining[4] == (8, ACTION_PURGE)
    entry = AuditEntry.objects.get(seq=8)
    assert entry.detail["checkpoint"] == 1
    assert entry.detail["purged"] == 3
    assert AuditPurge.objects.get().checkpoint.number == 1


def test_the_chain_still_verifies_after_a_purge_and_a_second_one(aged_trail, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 365
    audit_purge(actor=None)
    assert chain_verify().ok
    audit_checkpoint_seal()  # acknowledges the purge
    settings.XUEJI_AUDIT_RETENTION_DAYS = 180
    second = audit_purge(actor=None)
    assert second is not None and (second.checkpoint, second.purged) == (2, 2)
    result = chain_verify(batch_size=2)
    assert result.ok, result.problem
    [system] = result.chains
    assert (system.anchor_seq, system.first_seq) == (5, 6)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact" in out.getvalue()
    assert "after the purge anchor #5" in out.getvalue()


def test_entries_older_than_the_retention_stay_until_a_checkpoint_older_than_it_seals_them(
    write_entries, monkeypatch, settings
):
    """Only whole sealed checkpoints go: entries 399 days old, first sealed 200 days ago, stay
    when the retention is 365 days."""
    settings.XUEJI_AUDIT_RETENTION_DAYS = 365
    monkeypatch.setattr(services, "_now", lambda: days_ago(400))
    write_entries(2)
    audit_checkpoint_seal(now=days_ago(400))
    monkeypatch.setattr(services, "_now", lambda: days_ago(399))
    write_entries(2)
    audit_checkpoint_seal(now=days_ago(200))
    monkeypatch.undo()
    purge = audit_purge(actor=None)
    assert purge is not None and (purge.checkpoint, purge.purged) == (1, 2)
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))[:2] == [3, 4]


def test_every_chain_is_purged_down_to_its_own_sealed_head(write_entries, monkeypatch, settings):
    """Two chains: each loses the entries the anchor checkpoint sealed of it; a chain left with no
    entry continues from its anchor."""
    settings.XUEJI_AUDIT_RETENTION_DAYS = 180
    registrar = member("registrar", school=SchoolFactory(), username="reg-p")  # Futian, 440304
    monkeypatch.setattr(services, "_now", lambda: days_ago(300))
    write_entries(3)
    write_entries(2, actor=registrar)
    audit_checkpoint_seal(now=days_ago(300))
    monkeypatch.undo()
    write_entries(1)
    audit_checkpoint_seal()
    assert purge_bounds(1) == {"system": 3, "440304": 2}
    purge = audit_purge(actor=None)
    assert purge is not None and (purge.purged, purge.chains) == (5, 2)
    assert not AuditEntry.objects.filter(chain="440304").exists()
    with transaction.atomic():
        next_one = audit_record(actor=registrar, action="test.after_purge")
    anchor = AuditCheckpoint.objects.get(number=1).leaves.get(chain="440304")
    assert (next_one.seq, next_one.prev_hash) == (3, anchor.hash)
    audit_checkpoint_seal()
    result = chain_verify()
    assert result.ok, result.problem


def test_nothing_old_enough_purges_nothing(write_entries, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 180
    write_entries(3)
    audit_checkpoint_seal()
    assert audit_purge(actor=None) is None
    assert AuditEntry.objects.count() == 3
    assert not AuditPurge.objects.exists()


def test_purge_refuses_a_retention_below_180_days(aged_trail, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 90
    with pytest.raises(ValueError, match="below 180"):
        audit_purge(actor=None)
    with pytest.raises(CommandError, match="below 180"):
        call_command("audit", "purge")
    assert AuditEntry.objects.count() == 7


def test_the_purge_command_reports_what_it_did_and_seals(aged_trail, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 365
    out = io.StringIO()
    call_command("audit", "purge", stdout=out)
    assert "purged 3 entries of 1 chains, sealed by checkpoint #1" in out.getvalue()
    assert "sealed checkpoint #4" in out.getvalue()
    assert AuditCheckpoint.objects.get(number=4).purged_through == 1
    assert chain_verify().ok


def test_a_purge_record_hiding_a_deletion_of_recent_entries_is_found(aged_trail, attacker_sql):
    # The attacker deletes every entry and records a purge through today's checkpoint.
    attacker_sql("DELETE FROM audit_auditentry", None)
    today = AuditCheckpoint.objects.get(number=3)
    attacker_sql(
        "INSERT INTO audit_auditpurge (at, checkpoint_id, purged, retention_days)"
        " VALUES (%s, %s, 7, 365)",
        [timezone.now(), today.pk],
    )
    result = chain_verify()
    assert not result.ok
    assert "the purge through checkpoint #3 removed entries sealed only 0 days before it" in (
        result.problem
    )


def test_a_removed_purge_record_shows_the_purged_entries_missing(
    aged_trail, settings, attacker_sql
):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 365
    audit_purge(actor=None)
    attacker_sql("DELETE FROM audit_auditpurge", None)
    result = chain_verify()
    assert not result.ok
    assert result.problem == "chain system: entries #1 to #3 are missing"


def test_the_rule_is_written_down_for_the_database_function():
    assert "e.seq <= h.seq" in PURGE_RULE and "c.number <= :P" in PURGE_RULE
