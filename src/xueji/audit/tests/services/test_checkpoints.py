"""Signed checkpoints over every chain, the witness file, and what `verify` finds when someone with
the database in hand edits, deletes, inserts, truncates, rewinds or forges: each problem names the
chain and the entry."""

import base64
import hashlib
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from xueji.access.models import Role
from xueji.audit import chain
from xueji.audit.checkpoints import (
    audit_checkpoint_seal,
    statement_bytes,
    statement_of,
    witness_read,
)
from xueji.audit.integrity import chain_verify
from xueji.audit.merkle import heads_root
from xueji.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from xueji.audit.services import audit_record
from xueji.audit.signing import public_key_text, signing_keys
from xueji.geo.models import Division
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_counties(write_entries):
    """Three entries of Futian (440304), two of Nanshan (440305), two of the system."""
    futian = member(Role.REGISTRAR, school=SchoolFactory(), username="reg-futian")
    nanshan = member(
        Role.REGISTRAR,
        school=SchoolFactory(county=Division.objects.get(code="440305")),
        username="reg-nanshan",
    )
    write_entries(3, actor=futian)
    write_entries(2, actor=nanshan)
    write_entries(2)
    return {"futian": futian, "nanshan": nanshan}


def problems(result):
    return [str(problem) for problem in result.problems]


def seed(text: str) -> str:
    """A signing key's seed made from a text (32 bytes, base64)."""
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def keys(*pairs: tuple[str, str]) -> str:
    return ",".join(f"{key_id}:{value}" for key_id, value in pairs)


# ---- sealing -----------------------------------------------------------------------------------


def test_a_checkpoint_seals_the_head_of_every_chain(two_counties, _witness_file):
    result = audit_checkpoint_seal()
    checkpoint = result.checkpoint
    assert checkpoint is not None and checkpoint.number == 1
    leaves = sorted(checkpoint.leaves.values_list("chain", "seq", "hash"))
    assert [(c, s) for c, s, _h in leaves] == [("440304", 3), ("440305", 2), ("system", 2)]
    for key, seq, entry_hash in leaves:
        assert AuditEntry.objects.get(chain=key, seq=seq).hash == entry_hash
    root, _size = heads_root(leaves)
    assert (checkpoint.root, checkpoint.tree_size) == (root.hex(), 3)
    assert checkpoint.prev_root == "" and checkpoint.key_id == signing_keys().active_id
    public = signing_keys().public[checkpoint.key_id]
    public.verify(base64.b64decode(checkpoint.signature), statement_bytes(statement_of(checkpoint)))
    assert chain_verify().ok


def test_only_the_heads_that_moved_are_stored_and_nothing_moved_seals_nothing(two_counties):
    first = audit_checkpoint_seal().checkpoint
    assert audit_checkpoint_seal().checkpoint is None
    with transaction.atomic():
        audit_record(actor=two_counties["nanshan"], action="test.more")
    second = audit_checkpoint_seal()
    assert second.checkpoint is not None and second.moved == 1
    assert list(second.checkpoint.leaves.values_list("chain", "seq")) == [("440305", 3)]
    assert second.checkpoint.tree_size == 3
    assert second.checkpoint.prev_root == first.root
    assert chain_verify().ok


def test_the_witness_file_holds_the_latest_checkpoint_with_its_leaves(two_counties, _witness_file):
    audit_checkpoint_seal()
    with transaction.atomic():
        audit_record(actor=None, action="test.more")
    checkpoint = audit_checkpoint_seal().checkpoint
    assert stat.S_IMODE(os.stat(_witness_file).st_mode) == 0o600
    data = json.loads(_witness_file.read_text())
    assert data["number"] == 2 and data["root"] == checkpoint.root
    assert data["signature"] == checkpoint.signature
    assert [leaf[:2] for leaf in data["leaves"]] == [["440304", 3], ["440305", 2], ["system", 3]]
    assert witness_read()["fields"] == statement_of(checkpoint)
    assert not list(_witness_file.parent.glob(".*.tmp"))


# ---- tampering: each reported naming the chain and the entry -----------------------------------


def test_an_edited_entry_is_named(two_counties, attacker_sql):
    audit_checkpoint_seal()
    attacker_sql("UPDATE audit_auditentry SET action = 'x' WHERE chain = '440305' AND seq = 1")
    result = chain_verify()
    assert problems(result) == [
        "chain 440305: entry #1 was altered: its fields no longer match its hash"
    ]
    assert (result.problems[0].chain, result.bad_seq) == ("440305", 1)


def test_a_deleted_entry_is_named(two_counties, attacker_sql):
    audit_checkpoint_seal()
    attacker_sql("DELETE FROM audit_auditentry WHERE chain = '440304' AND seq = 2")
    assert problems(chain_verify()) == ["chain 440304: entry #2 is missing"]


def test_an_entry_inserted_into_a_sealed_chain_is_found_by_the_checkpoint(
    two_counties, attacker_sql
):
    """The attacker inserts a forged entry at #2 of Futian and re-hashes the rest of the chain:
    every link holds, but the head the checkpoint signed is no longer there."""
    audit_checkpoint_seal()
    entries = list(AuditEntry.objects.filter(chain="440304").order_by("seq"))
    forged = AuditEntry(
        chain="440304", actor=two_counties["futian"], action="test.forged", detail={"n": 0}
    )
    attacker_sql("DELETE FROM audit_auditentry WHERE chain = '440304' AND seq > 1")
    previous = entries[0].hash
    rewritten = [forged, *entries[1:]]
    for seq, entry in enumerate(rewritten, start=2):
        entry.pk = None
        entry.seq, entry.prev_hash = seq, previous
        entry.hash = previous = chain.entry_hash(previous, entry)
    AuditEntry.objects.bulk_create(rewritten)
    assert problems(chain_verify()) == [
        "chain 440304: entry #3 is not the one checkpoint #1 sealed: it was replaced"
    ]


def test_entries_inserted_in_a_chain_nobody_registered_are_named(two_counties):
    """A well-formed chain of forged entries, inserted beside the application's."""
    forged = AuditEntry(chain="999999", seq=1, action="test.forged", prev_hash=chain.GENESIS_HASH)
    forged.hash = chain.entry_hash(chain.GENESIS_HASH, forged)
    forged.save(force_insert=True)
    assert problems(chain_verify()) == [
        "chain 999999: it has entries but was never registered: they were inserted"
    ]


def test_a_rewound_chain_is_named_with_the_entries_it_lost(two_counties, attacker_sql):
    audit_checkpoint_seal()
    attacker_sql("DELETE FROM audit_auditentry WHERE chain = '440304' AND seq >= 2")
    assert problems(chain_verify()) == [
        "chain 440304: entries #2 to #3 are missing: checkpoint #1 sealed the chain at #3"
    ]
    # The sealer does not sign the shorter chain either.
    result = audit_checkpoint_seal()
    assert result.checkpoint is None
    assert "chain 440304: its last entry is #1, below #3" in result.warnings[0]


def test_truncated_tables_are_found_through_the_witness_file(two_counties, attacker_sql):
    """Entries, checkpoints and the chain registry emptied: the database alone looks like a new
    trail; the witness file names every chain and how far it went."""
    audit_checkpoint_seal()
    for table in (
        "audit_auditcheckpointleaf",
        "audit_auditcheckpoint",
        "audit_auditentry",
        "audit_auditchain",
    ):
        attacker_sql(f"DELETE FROM {table}")
    found = problems(chain_verify())
    assert found[0].startswith(
        "the database holds no checkpoint, older than checkpoint #1 in the witness file"
    )
    assert found[1:] == [
        "chain 440304: entries #1 to #3 are missing: the witness file's checkpoint #1 sealed "
        "the chain at #3",
        "chain 440305: entries #1 to #2 are missing: the witness file's checkpoint #1 sealed "
        "the chain at #2",
        "chain system: entries #1 to #2 are missing: the witness file's checkpoint #1 sealed "
        "the chain at #2",
    ]


def test_a_checkpoint_removed_with_the_entries_it_sealed_is_found_through_the_witness(
    two_counties, attacker_sql
):
    audit_checkpoint_seal()
    with transaction.atomic():
        audit_record(actor=None, action="test.later")
    audit_checkpoint_seal()
    attacker_sql(
        "DELETE FROM audit_auditcheckpointleaf WHERE checkpoint_id IN "
        "(SELECT id FROM audit_auditcheckpoint WHERE number = 2)"
    )
    attacker_sql("DELETE FROM audit_auditcheckpoint WHERE number = 2")
    attacker_sql("DELETE FROM audit_auditentry WHERE chain = 'system' AND seq = 3")
    found = problems(chain_verify())
    assert "holds checkpoint #1 as its latest, older than checkpoint #2" in found[0]
    assert found[1] == (
        "chain system: entry #3 is missing: the witness file's checkpoint #2 sealed the chain at #3"
    )


def test_a_checkpoint_with_a_forged_root_does_not_verify(two_counties, attacker_sql):
    audit_checkpoint_seal()
    attacker_sql("UPDATE audit_auditcheckpoint SET root = %s", ["ab" * 32])
    found = problems(chain_verify())
    assert "checkpoint #1: its leaves do not make its signed root" in found
    assert "checkpoint #1: its signature does not verify with the key 'dev'" in found


def test_a_checkpoint_resigned_with_a_key_of_the_attackers_is_refused(
    two_counties, attacker_sql, settings
):
    """The attacker rewrites a chain and signs a checkpoint over it with a key of their own."""
    audit_checkpoint_seal()
    attacker_sql("UPDATE audit_auditentry SET action = 'x' WHERE chain = 'system' AND seq = 2")
    forged = AuditCheckpoint.objects.get(number=1)
    own = Ed25519PrivateKey.generate()
    forged.key_id = "attacker"
    forged.signature = base64.b64encode(own.sign(statement_bytes(statement_of(forged)))).decode()
    attacker_sql(
        "UPDATE audit_auditcheckpoint SET key_id = %s, signature = %s",
        [forged.key_id, forged.signature],
    )
    found = problems(chain_verify())
    unknown = "checkpoint #1: it is signed with the key 'attacker', which is not a known audit key"
    assert unknown in found
    assert "chain system: entry #2 was altered: its fields no longer match its hash" in found
    assert any("is not the one in the witness file" in problem for problem in found)


# ---- keys --------------------------------------------------------------------------------------


def test_a_rotated_key_keeps_the_old_checkpoints_verifiable(two_counties, settings):
    old, new = seed("first key"), seed("second key")
    settings.XUEJI_AUDIT_SIGNING_KEYS = keys(("s1", old))
    assert audit_checkpoint_seal().checkpoint.key_id == "s1"
    # Rotation: the new key signs, the old one still verifies.
    settings.XUEJI_AUDIT_SIGNING_KEYS = keys(("s2", new), ("s1", old))
    with transaction.atomic():
        audit_record(actor=None, action="test.after_rotation")
    assert audit_checkpoint_seal().checkpoint.key_id == "s2"
    assert chain_verify().ok
    # Retired: only the old public key is kept.
    retired = public_key_text(signing_keys().public["s1"])
    settings.XUEJI_AUDIT_SIGNING_KEYS = keys(("s2", new))
    settings.XUEJI_AUDIT_VERIFY_KEYS = keys(("s1", retired))
    result = chain_verify()
    assert result.ok, result.problem
    # Forgotten altogether: the old checkpoint can no longer be trusted.
    settings.XUEJI_AUDIT_VERIFY_KEYS = ""
    found = problems(chain_verify())
    assert "checkpoint #1: it is signed with the key 's1', which is not a known audit key" in found


def test_keys_come_from_the_key_file_too(two_counties, settings, tmp_path, monkeypatch):
    key_file = tmp_path / "keys.json"
    key_file.write_text(
        json.dumps({"audit_signing": {"active": "f1", "keys": {"f1": seed("from the file")}}})
    )
    monkeypatch.setenv("XUEJI_KEY_FILE", str(key_file))
    assert audit_checkpoint_seal().checkpoint.key_id == "f1"
    assert chain_verify().ok


def test_production_refuses_a_key_derived_from_the_secret_key(two_counties, settings):
    from django.core.exceptions import ImproperlyConfigured

    from xueji.audit.signing import signing_keys_configured

    settings.XUEJI_AUDIT_DERIVED_KEY_ALLOWED = False
    with pytest.raises(ImproperlyConfigured, match="No audit signing key"):
        audit_checkpoint_seal()
    assert not AuditCheckpoint.objects.exists()
    assert [error.id for error in signing_keys_configured()] == ["xueji_audit.E003"]
    settings.XUEJI_AUDIT_SIGNING_KEYS = keys(("p1", seed("production")))
    assert signing_keys_configured() == []


# ---- the legacy chain --------------------------------------------------------------------------


def test_entries_of_the_single_chain_of_before_verify_as_the_legacy_chain(attacker_sql):
    """Entries written before there were several chains keep their rows and hashes (which cover
    no chain key): they verify as the legacy chain, up to the head row of before."""
    previous = chain.GENESIS_HASH
    for seq in (1, 2, 3):
        entry = AuditEntry(chain="", seq=seq, action="test.legacy", detail={"n": seq})
        entry.prev_hash = previous
        entry.hash = chain.entry_hash(previous, entry)
        assert "chain" not in chain.entry_fields(entry)
        entry.save(force_insert=True)
        previous = entry.hash
    # The head row of before (a flushed database, as between transactional tests, has none).
    attacker_sql(
        "INSERT INTO audit_auditchainhead (id, seq, hash) VALUES (1, 3, %s) "
        "ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash",
        [previous],
    )
    result = chain_verify()
    assert result.ok, result.problem
    assert [(summary.key, summary.entries) for summary in result.chains] == [("", 3)]
    attacker_sql("DELETE FROM audit_auditentry WHERE seq = 3")
    assert problems(chain_verify()) == [
        "chain legacy: entry #3 is missing: the legacy chain head sealed the chain at #3"
    ]
    assert AuditChainHead.objects.get().seq == 3
