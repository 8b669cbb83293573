import datetime
import decimal
import itertools
import uuid

import pytest
from django.db import transaction

from xueji.access.models import Role
from xueji.audit import chain
from xueji.audit.checkpoints import audit_checkpoint_seal
from xueji.audit.context import begin, end
from xueji.audit.models import AuditChain, AuditEntry
from xueji.audit.services import ChainTruncated, audit_record
from xueji.geo.models import Division
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_an_entry_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the audited action's transaction"):
        audit_record(actor=None, action="test.write")
    assert not AuditEntry.objects.exists()


def test_entries_are_numbered_without_gaps_and_chained(write_entries):
    entries = write_entries(4)
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == chain.GENESIS_HASH
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.hash
    for stored in AuditEntry.objects.order_by("seq"):
        assert chain.entry_hash(stored.prev_hash, stored) == stored.hash
    # No head row any more: the chain (the system's, for no actor) is registered, and its last
    # entry is its head.
    assert {entry.chain for entry in entries} == {"system"}
    assert AuditChain.objects.filter(key="system").exists()


def test_an_entry_rolled_back_with_its_action_leaves_no_gap(write_entries):
    write_entries(1)
    with pytest.raises(ValueError), transaction.atomic():
        audit_record(actor=None, action="test.failed_action")
        raise ValueError("the action failed after its audit entry")
    later = write_entries(1)[0]
    assert later.seq == 2
    assert list(AuditEntry.objects.values_list("action", flat=True).order_by("seq")) == [
        "test.write",
        "test.write",
    ]


def test_an_entry_keeps_who_acted_as_what_and_where():
    futian = Division.objects.get(code="440304")
    registrar = member(Role.REGISTRAR, school=SchoolFactory(county=futian), username="reg-a")
    bureau = member(Role.BUREAU_APPROVER, division=futian, username="futian-approver")
    student = uuid.uuid4()
    by_registrar = audit_record(
        actor=registrar,
        action="student.update",
        object_type="student",
        object_id=str(student),
        before={"address": "old"},
        after={"address": "new"},
    )
    by_bureau = audit_record(actor=bureau, action="correction.approve")
    stored = AuditEntry.objects.get(pk=by_registrar.pk)
    assert stored.actor == registrar
    assert stored.actor_username == "reg-a"
    assert stored.actor_role == Role.REGISTRAR
    assert stored.actor_school_id == registrar.membership.school_id
    assert stored.object_id == student
    assert (stored.before, stored.after) == ({"address": "old"}, {"address": "new"})
    by_bureau.refresh_from_db()
    assert (by_bureau.actor_role, by_bureau.actor_division) == (Role.BUREAU_APPROVER, "440304")


def test_the_address_and_request_come_from_the_request_being_served():
    token = begin("::ffff:10.1.2.3")
    try:
        first = audit_record(actor=None, action="test.one")
        second = audit_record(actor=None, action="test.two")
    finally:
        end(token)
    outside = audit_record(actor=None, action="test.three")
    assert first.ip_address == "10.1.2.3"
    assert first.request_id == second.request_id
    assert outside.ip_address is None
    assert outside.request_id != first.request_id


def test_values_are_stored_as_hashed_json_without_identifiers_or_nul():
    resident = "11010520100305001X"
    entry = audit_record(
        actor=None,
        action="test.values",
        detail={
            "id": resident,
            "number": "G" + resident,
            "text": f"lookup of {resident} by name",
            "day": datetime.date(2026, 9, 1),
            "uuid": uuid.UUID(int=7),
            "amount": decimal.Decimal("12.50"),
            "nested": [{"ratio": 0.1, "nul": "a\x00b"}],
        },
        before={"id_number": resident},
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.detail == {
        "id": "110105********001X",
        "number": "G110105********001X",
        "text": "lookup of 110105********001X by name",
        "day": "2026-09-01",
        "uuid": str(uuid.UUID(int=7)),
        "amount": "12.50",
        "nested": [{"ratio": 0.1, "nul": "a\ufffdb"}],
    }
    assert stored.before == {"id_number": "110105********001X"}
    assert chain.entry_hash(stored.prev_hash, stored) == stored.hash


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010520100305001", "110105*******5001"),  # a resident ID missing a digit
        ("1101052010030500123", "110105*********0123"),  # one digit too many
        ("110105100305001", "110105*****5001"),  # an old 15-digit ID
        ("11010520100305001x", "110105********001x"),
    ],
)
def test_a_number_of_any_identity_length_is_masked_as_exports_mask_it(number, masked):
    """Audit details and exports hide the same numbers: not only a well-formed 18-character
    resident ID but any run of 15 to 20 digits, however mistyped or old."""
    from xueji.core.exports import mask_identifiers

    entry = audit_record(
        actor=None,
        action="test.values",
        detail={"id": number, "text": f"查询 {number} 无结果", number: "as a key"},
        after={"id_number": number},
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.detail == {"id": masked, "text": f"查询 {masked} 无结果", masked: "as a key"}
    assert stored.after == {"id_number": masked}
    assert mask_identifiers(number) == masked
    assert chain.entry_hash(stored.prev_hash, stored) == stored.hash


def test_shorter_numbers_and_numbers_inside_words_are_kept():
    """A phone number, a school code or a hash is not an identity number."""
    detail = {"phone": "13800138000", "school": "4403040001", "sha": "ab" + "1" * 20 + "cd"}
    entry = audit_record(actor=None, action="test.values", detail=detail)
    assert AuditEntry.objects.get(pk=entry.pk).detail == detail


def test_writes_stop_when_a_sealed_chain_lost_its_entries(write_entries, attacker_sql):
    """There is no head row to remove any more (each chain's head is its last entry): what a
    writer can find is a chain a checkpoint sealed that has no entries left and no purge to
    explain it."""
    write_entries(2)
    audit_checkpoint_seal()
    attacker_sql("DELETE FROM audit_auditentry WHERE chain = 'system'", None)
    with (
        pytest.raises(ChainTruncated, match="checkpoint #1 sealed it at entry #2"),
        transaction.atomic(),
    ):
        audit_record(actor=None, action="test.write")
