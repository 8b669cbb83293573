"""The specification of each kind of change (xueji.changes.kinds) covers every ChangeKind, holds
together, and is what the services, the policy, the workflow, the form and the API read."""

import typing

import pytest

from xueji.changes import api, forms, policy, services, workflow
from xueji.changes.kinds import (
    DEFERRED_KINDS,
    FILED_BY_OWN_SCHOOL,
    FILED_BY_RECEIVER,
    SPECS,
    Chain,
    Effect,
    GuardianRequest,
)
from xueji.changes.models import ChangeKind, ChangeState, Initiator
from xueji.changes.workflow import Event, Place, chain_for, transition
from xueji.students.models import ON_ROLL_STATES, RecordState

K = ChangeKind
SCHOOL = Place(1, "440304", "440000")
OTHER = Place(2, "440402", "440000")


def test_every_kind_has_one_specification():
    assert set(SPECS) == set(ChangeKind)
    assert all(spec.kind == kind for kind, spec in SPECS.items())


def test_the_derived_tables_are_the_domain_rules():
    assert services.NEW_STATE == {
        K.SUSPEND: RecordState.SUSPENDED,
        K.RESUME: RecordState.ENROLLED,
        K.WITHDRAW: RecordState.WITHDRAWN,
        K.DROPOUT: RecordState.DROPPED_OUT,
        K.ABROAD: RecordState.ABROAD,
        K.DEATH: RecordState.DECEASED,
        K.TRANSFER: RecordState.ENROLLED,
    }
    assert {kind: SPECS[kind].event for kind in ChangeKind} == services.EVENT_OF
    assert set(services.CLOSING_KINDS) == {K.WITHDRAW, K.DROPOUT, K.ABROAD, K.DEATH}
    on_roll = (RecordState.ENROLLED, RecordState.SUSPENDED)
    assert {
        K.TRANSFER: (RecordState.ENROLLED,),
        K.SUSPEND: (RecordState.ENROLLED,),
        K.RESUME: (RecordState.SUSPENDED,),
        K.WITHDRAW: on_roll,
        K.DROPOUT: on_roll,
        K.REPEAT: (RecordState.ENROLLED,),
        K.SKIP: (RecordState.ENROLLED,),
        K.ABROAD: on_roll,
        K.DEATH: on_roll,
        K.CLASS_CHANGE: (RecordState.ENROLLED,),
    } == services.FROM_STATES
    # The year end's contract: the kinds it applies, with the grades its promotion moves.
    assert workflow.DEFERRED_KINDS == DEFERRED_KINDS == (K.REPEAT, K.SKIP)
    assert [SPECS[kind].promotion_grades for kind in DEFERRED_KINDS] == [0, 2]
    assert set(policy.GUARDIAN_ONLY_IN_COMPULSORY) == {K.WITHDRAW, K.REPEAT}
    assert policy.GUARDIAN_REQUEST_REQUIRED == (K.TRANSFER,)
    assert FILED_BY_RECEIVER == (K.TRANSFER,)


def test_the_form_and_the_api_offer_the_kinds_a_school_files():
    assert [kind for kind in ChangeKind if kind != K.TRANSFER] == forms.RECORD_KINDS
    assert typing.get_args(api.OwnSchoolKind) == tuple(kind.value for kind in FILED_BY_OWN_SCHOOL)
    schema = api.ChangeIn.model_json_schema()["properties"]["kind"]
    assert schema["enum"] == [kind.value for kind in ChangeKind if kind != K.TRANSFER]


@pytest.mark.parametrize("kind", list(ChangeKind))
def test_each_specification_holds_together(kind):
    spec = SPECS[kind]
    assert all(state in ON_ROLL_STATES for state in spec.from_states)
    # A move opens a placement for a reason; nothing else opens one.
    assert (spec.effect == Effect.MOVES) == (spec.placement_reason is not None)
    if spec.effect == Effect.CLOSES:
        # The child leaves the roll, and the exit event is named as the state it leaves.
        assert spec.result is not None and spec.result not in ON_ROLL_STATES
        assert spec.event.value == spec.result.value
    if spec.effect == Effect.STAYS:
        assert spec.result in ON_ROLL_STATES
    if spec.effect == Effect.DEFERRED:
        assert spec.result is None and spec.promotion_grades is not None
        assert transition("pending", Event.FINAL_APPROVE, kind) == ChangeState.APPROVED
        assert transition("approved", Event.APPLY, kind) == ChangeState.COMPLETED
    else:
        assert spec.promotion_grades is None
        assert transition("pending", Event.FINAL_APPROVE, kind) == ChangeState.COMPLETED
    if spec.pending_state is not None:
        # While under way the record shows it; if it stops, it goes back to its one state.
        assert len(spec.from_states) == 1 and spec.pending_state in ON_ROLL_STATES
    assert policy.needs_evidence(kind) == spec.evidence_required
    assert policy.needs_guardian_request(kind, Initiator.SCHOOL) == (
        spec.guardian_request == GuardianRequest.ALWAYS
    )
    assert policy.needs_guardian_request(kind, Initiator.GUARDIAN) == (
        spec.guardian_request != GuardianRequest.NEVER
    )
    grade_one = policy.initiator_allowed(kind, 1, Initiator.SCHOOL)
    assert grade_one == (not spec.guardian_only_in_compulsory)
    assert policy.initiator_allowed(kind, 10, Initiator.SCHOOL)


@pytest.mark.parametrize("kind", list(ChangeKind))
def test_the_chain_is_the_specifications(kind):
    chain = chain_for(kind, SCHOOL, OTHER)
    levels = [party.level for party in chain]
    expected = {
        Chain.SCHOOL: ["school"],
        Chain.SCHOOL_COUNTY: ["school", "county"],
        Chain.TRANSFER: ["school", "county", "school", "county"],
    }
    assert levels == expected[SPECS[kind].chain]
