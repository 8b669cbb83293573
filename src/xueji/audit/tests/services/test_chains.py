"""Which chain an entry goes to: the acting unit's, or the system's; one per transaction."""

import pytest
from django.db import transaction

from xueji.access.models import Role
from xueji.audit.actors import ActingAs
from xueji.audit.chains import NATION_CHAIN, SYSTEM_CHAIN, chain_of
from xueji.audit.integrity import chain_verify
from xueji.audit.models import AuditChain, AuditEntry
from xueji.audit.services import audit_record
from xueji.geo.models import Division
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    futian = Division.objects.get(code="440304")
    nanshan = Division.objects.get(code="440305")
    return {
        "futian_registrar": member(Role.REGISTRAR, school=SchoolFactory(county=futian)),
        "futian_registrar_2": member(Role.REGISTRAR, school=SchoolFactory(county=futian)),
        "nanshan_registrar": member(Role.REGISTRAR, school=SchoolFactory(county=nanshan)),
        "futian_bureau": member(Role.BUREAU_APPROVER, division=futian),
        "city_bureau": member(Role.BUREAU_APPROVER, division=futian.parent),
        "province_bureau": member(Role.BUREAU_APPROVER, division=futian.parent.parent),
        "nation": member(Role.BUREAU_APPROVER),
    }


def written(actor):
    with transaction.atomic():
        return audit_record(actor=actor, action="test.chain")


def test_each_actor_writes_to_their_units_chain(staff):
    futian = Division.objects.get(code="440304")
    chains = {name: written(user).chain for name, user in staff.items()}
    assert chains == {
        "futian_registrar": "440304",
        "futian_registrar_2": "440304",
        "nanshan_registrar": "440305",
        "futian_bureau": "440304",
        "city_bureau": futian.parent.code,
        "province_bureau": futian.parent.parent.code,
        "nation": NATION_CHAIN,
    }
    assert written(None).chain == SYSTEM_CHAIN
    assert set(AuditChain.objects.values_list("key", flat=True)) == {
        "440304",
        "440305",
        futian.parent.code,
        futian.parent.parent.code,
        NATION_CHAIN,
        SYSTEM_CHAIN,
    }


def test_two_counties_write_two_chains_and_one_county_one(staff):
    entries = [
        written(staff[name])
        for name in ("futian_registrar", "nanshan_registrar", "futian_registrar_2", "futian_bureau")
    ]
    assert [(entry.chain, entry.seq) for entry in entries] == [
        ("440304", 1),
        ("440305", 1),
        ("440304", 2),
        ("440304", 3),
    ]
    assert entries[2].prev_hash == entries[0].hash
    assert entries[3].prev_hash == entries[2].hash
    result = chain_verify()
    assert result.ok, result.problem
    assert [(summary.key, summary.entries) for summary in result.chains] == [
        ("440304", 3),
        ("440305", 1),
    ]


def test_a_transaction_keeps_the_chain_its_first_entry_chose(staff):
    with transaction.atomic():
        first = audit_record(actor=staff["futian_registrar"], action="test.first")
        by_system = audit_record(actor=None, action="test.then_the_system")
        with transaction.atomic():
            nested = audit_record(actor=staff["nanshan_registrar"], action="test.nested")
    assert {first.chain, by_system.chain, nested.chain} == {"440304"}
    assert [by_system.seq, nested.seq] == [2, 3]
    # The next transaction chooses afresh.
    assert written(staff["nanshan_registrar"]).chain == "440305"


def test_an_entry_rolled_back_with_its_savepoint_leaves_no_gap(staff):
    with transaction.atomic():
        audit_record(actor=staff["futian_registrar"], action="test.kept")
        with pytest.raises(ValueError), transaction.atomic():
            audit_record(actor=staff["futian_registrar"], action="test.undone")
            raise ValueError("the inner step failed")
        after = audit_record(actor=None, action="test.after")
    assert (after.chain, after.seq) == ("440304", 2)
    assert chain_verify().ok


def test_a_transaction_rolled_back_does_not_leave_its_choice_behind(staff):
    with pytest.raises(ValueError), transaction.atomic():
        audit_record(actor=staff["futian_registrar"], action="test.undone")
        raise ValueError("the action failed")
    assert written(None).chain == SYSTEM_CHAIN
    assert not AuditEntry.objects.filter(chain="440304").exists()


def test_a_place_without_its_county_is_a_chain_of_its_own():
    """The place lookup registered by access says the school's county; without it (another
    lookup), a school's staff write to the school's own chain rather than to the nation's."""
    assert chain_of(ActingAs(role="registrar", school_id=12)) == "school-12"
    assert chain_of(ActingAs(role="registrar", school_id=12, county="440304")) == "440304"
    assert chain_of(ActingAs(role="bureau_viewer", division="4403")) == "4403"
    assert chain_of(ActingAs(role="bureau_viewer")) == NATION_CHAIN
    assert chain_of(None) == SYSTEM_CHAIN
