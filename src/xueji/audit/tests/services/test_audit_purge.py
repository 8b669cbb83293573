"""Retention: entries older than the period go, a checkpoint anchors the rest, verify passes."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from xueji.audit import services
from xueji.audit.integrity import chain_verify
from xueji.audit.models import AuditCheckpoint, AuditEntry
from xueji.audit.services import ACTION_PURGE, audit_purge

pytestmark = pytest.mark.django_db


@pytest.fixture
def aged_trail(write_entries, monkeypatch):
    """Three entries 400 days old, two 200 days old, two written today."""
    today = timezone.now()
    for age, count in ((400, 3), (200, 2)):
        monkeypatch.setattr(services, "_now", lambda age=age: today - datetime.timedelta(days=age))
        write_entries(count, action=f"test.age_{age}")
    monkeypatch.undo()
    write_entries(2, action="test.today")


def test_purge_removes_only_entries_older_than_the_retention(aged_trail, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 365
    checkpoint = audit_purge(actor=None)
    assert checkpoint is not None
    assert (checkpoint.first_seq, checkpoint.purged) == (4, 3)
    remaining = list(AuditEntry.objects.order_by("seq").values_list("seq", "action"))
    assert remaining[:4] == [
        (4, "test.age_200"),
        (5, "test.age_200"),
        (6, "test.today"),
        (7, "test.today"),
    ]
    assert remaining[4] == (8, ACTION_PURGE)
    purge = AuditEntry.objects.get(seq=8)
    assert purge.detail["first_seq"] == 4
    assert purge.detail["anchor_hash"] == checkpoint.anchor_hash
    assert purge.detail["purged"] == 3


def test_the_chain_still_verifies_after_a_purge_and_a_second_one(aged_trail, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 365
    audit_purge(actor=None)
    assert chain_verify().ok
    settings.XUEJI_AUDIT_RETENTION_DAYS = 180
    second = audit_purge(actor=None)
    assert second is not None and second.first_seq == 6
    result = chain_verify(batch_size=2)
    assert result.ok, result.problem
    assert result.first_seq == 6
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact" in out.getvalue()


def test_nothing_old_enough_purges_nothing(write_entries, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 180
    write_entries(3)
    assert audit_purge(actor=None) is None
    assert AuditEntry.objects.count() == 3
    assert not AuditCheckpoint.objects.exists()


def test_purge_refuses_a_retention_below_180_days(aged_trail, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 90
    with pytest.raises(ValueError, match="below 180"):
        audit_purge(actor=None)
    with pytest.raises(CommandError, match="below 180"):
        call_command("audit", "purge")
    assert AuditEntry.objects.count() == 7


def test_the_purge_command_reports_what_it_did(aged_trail, settings):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 365
    out = io.StringIO()
    call_command("audit", "purge", stdout=out)
    assert "purged 3 entries" in out.getvalue()
    assert "starts at #4" in out.getvalue()


def test_a_forged_checkpoint_hiding_a_deletion_is_found(aged_trail, attacker_sql):
    # The attacker deletes the three oldest entries and writes a checkpoint to cover them.
    third = AuditEntry.objects.get(seq=3)
    attacker_sql("DELETE FROM audit_auditentry WHERE seq <= 3", None)
    attacker_sql(
        "INSERT INTO audit_auditcheckpoint (created_at, first_seq, anchor_hash, purged, cutoff)"
        " VALUES (%s, 4, %s, 3, %s)",
        [timezone.now(), third.hash, timezone.now()],
    )
    result = chain_verify()
    assert not result.ok
    assert "has no matching purge entry" in result.problem


def test_a_removed_checkpoint_shows_the_purged_entries_missing(aged_trail, settings, attacker_sql):
    settings.XUEJI_AUDIT_RETENTION_DAYS = 365
    audit_purge(actor=None)
    attacker_sql("DELETE FROM audit_auditcheckpoint", None)
    result = chain_verify()
    assert not result.ok
    assert result.problem == "entries #1 to #3 are missing"
