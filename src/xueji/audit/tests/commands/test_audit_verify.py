"""`xueji audit verify` against an intact chain and against an attacker with database access."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xueji.audit import chain
from xueji.audit.checkpoints import audit_checkpoint_seal
from xueji.audit.integrity import chain_verify
from xueji.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", "verify", *args, stdout=out)
    return out.getvalue()


def test_an_intact_chain_passes(write_entries):
    entries = write_entries(5)
    output = verify("--batch-size", "2")
    assert "intact: 1 chains, 5 entries, 0 checkpoints" in output
    assert "system: 5 entries, #1 to #5" in output
    assert entries[-1].hash in output


def test_an_empty_trail_passes():
    assert "no entries yet" in verify()


def test_an_entry_edited_in_the_database_is_named(write_entries, attacker_sql):
    write_entries(5)
    attacker_sql(
        "UPDATE audit_auditentry SET detail = %s WHERE seq = 3", [json.dumps({"number": 99})]
    )
    with pytest.raises(CommandError, match=r"chain system: entry #3 was altered"):
        verify("--batch-size", "2")


def test_an_edited_entry_whose_hash_was_recomputed_breaks_the_next_link(
    write_entries, attacker_sql
):
    write_entries(4)
    forged = AuditEntry.objects.get(seq=2)
    forged.action = "test.innocent"
    attacker_sql(
        "UPDATE audit_auditentry SET action = %s, hash = %s WHERE seq = 2",
        [forged.action, chain.entry_hash(forged.prev_hash, forged)],
    )
    with pytest.raises(CommandError, match=r"entry #3 does not follow entry #2"):
        verify()


def test_a_deleted_entry_is_missing(write_entries, attacker_sql):
    write_entries(5)
    attacker_sql("DELETE FROM audit_auditentry WHERE seq = 2", None)
    with pytest.raises(CommandError, match=r"entry #2 is missing"):
        verify("--batch-size", "3")


# The chain head row is gone (a chain's head is its last entry): the end of a chain is what a
# signed checkpoint sealed. These two tests seal before the attacker acts.


def test_deleted_entries_at_the_end_are_missing_according_to_the_checkpoint(
    write_entries, attacker_sql
):
    write_entries(5)
    audit_checkpoint_seal()
    attacker_sql("DELETE FROM audit_auditentry WHERE seq >= 4", None)
    with pytest.raises(
        CommandError,
        match=r"chain system: entries #4 to #5 are missing: checkpoint #1 sealed the chain at #5",
    ):
        verify()


def test_the_last_entry_replaced_is_found_by_the_checkpoint(write_entries, attacker_sql):
    write_entries(3)
    audit_checkpoint_seal()
    last = AuditEntry.objects.get(seq=3)
    last.action = "test.replaced"
    attacker_sql(
        "UPDATE audit_auditentry SET action = %s, hash = %s WHERE seq = 3",
        [last.action, chain.entry_hash(last.prev_hash, last)],
    )
    with pytest.raises(
        CommandError, match=r"chain system: entry #3 is not the one checkpoint #1 sealed"
    ):
        verify()


def test_the_first_problem_is_reported_and_the_walk_stops(write_entries, attacker_sql):
    write_entries(6)
    attacker_sql("UPDATE audit_auditentry SET action = 'x' WHERE seq IN (2, 5)", None)
    result = chain_verify(batch_size=4)
    assert not result.ok
    assert result.bad_seq == 2
    assert result.checked == 1


def test_verify_rejects_a_batch_size_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        verify("--batch-size", "0")
