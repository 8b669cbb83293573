"""The pure state machine and the approval chains of DOMAIN §5."""

import pytest

from xueji.changes.models import ChangeKind, ChangeState
from xueji.changes.workflow import (
    Event,
    InvalidTransition,
    Place,
    chain_for,
    events_from,
    level_above,
    transition,
)

SHENZHEN_FUTIAN = Place(1, "440304", "440000")
SHENZHEN_FUTIAN_2 = Place(2, "440304", "440000")
ZHUHAI = Place(3, "440402", "440000")
BEIJING = Place(4, "110101", "110000")


def test_transitions():
    assert transition(None, Event.FILE) == ChangeState.PENDING
    assert transition(None, Event.HOLD) == ChangeState.HELD
    assert transition("held", Event.RELEASE) == ChangeState.PENDING
    assert transition("pending", Event.APPROVE) == ChangeState.PENDING
    assert transition("pending", Event.FINAL_APPROVE, "transfer") == ChangeState.COMPLETED
    # 留级 and 跳级 wait for the promotion.
    assert transition("pending", Event.FINAL_APPROVE, "repeat") == ChangeState.APPROVED
    assert transition("pending", Event.FINAL_APPROVE, "skip") == ChangeState.APPROVED
    assert transition("approved", Event.APPLY) == ChangeState.COMPLETED
    assert transition("pending", Event.REJECT) == ChangeState.REJECTED
    assert transition("held", Event.WITHDRAW) == ChangeState.WITHDRAWN


@pytest.mark.parametrize(
    ("state", "event"),
    [
        ("held", Event.APPROVE),
        ("held", Event.REJECT),
        ("approved", Event.WITHDRAW),
        ("completed", Event.APPROVE),
        ("rejected", Event.WITHDRAW),
        ("withdrawn", Event.RELEASE),
        ("pending", Event.FILE),
        ("pending", "nonsense"),
    ],
)
def test_unexpected_transitions_are_refused(state, event):
    with pytest.raises(InvalidTransition):
        transition(state, event)


def test_final_states_have_no_way_out():
    for state in ("completed", "rejected", "withdrawn"):
        assert events_from(state) == []


def parties(chain):
    return [(p.level, p.side, p.school_id or p.division_code) for p in chain]


def test_same_county_chain():
    chain = chain_for(ChangeKind.TRANSFER, SHENZHEN_FUTIAN, SHENZHEN_FUTIAN_2)
    assert parties(chain) == [
        ("school", "receiver", 2),
        ("school", "sender", 1),
        ("county", "sender", "440304"),
    ]


def test_other_county_chain():
    assert parties(chain_for(ChangeKind.TRANSFER, ZHUHAI, SHENZHEN_FUTIAN)) == [
        ("school", "receiver", 1),
        ("county", "receiver", "440304"),
        ("school", "sender", 3),
        ("county", "sender", "440402"),
    ]


def test_other_province_chain():
    assert parties(chain_for(ChangeKind.TRANSFER, BEIJING, ZHUHAI)) == [
        ("school", "receiver", 3),
        ("county", "receiver", "440402"),
        ("province", "receiver", "440000"),
        ("school", "sender", 4),
        ("county", "sender", "110101"),
        ("province", "sender", "110000"),
    ]


def test_receiving_side_always_comes_before_the_sending_school():
    for sender, receiver in [(ZHUHAI, SHENZHEN_FUTIAN), (BEIJING, ZHUHAI)]:
        sides = [p.side for p in chain_for(ChangeKind.TRANSFER, sender, receiver)]
        first_sender = sides.index("sender")
        assert all(side == "receiver" for side in sides[:first_sender])
        assert all(side == "sender" for side in sides[first_sender:])


def test_other_kinds_school_then_county_class_change_school_only():
    assert parties(chain_for(ChangeKind.SUSPEND, ZHUHAI)) == [
        ("school", "own", 3),
        ("county", "own", "440402"),
    ]
    assert parties(chain_for(ChangeKind.CLASS_CHANGE, ZHUHAI)) == [("school", "own", 3)]
    with pytest.raises(ValueError):
        chain_for(ChangeKind.TRANSFER, ZHUHAI)


def test_level_above():
    assert level_above("school", school_county="440402") == ("county", "440402")
    assert level_above("county", division_parent="440400") == ("city", "440400")
    # 东莞 (441900) has no counties: its bureau decides as a county, under the province.
    assert level_above("county", division_parent="440000") == ("province", "440000")
    assert level_above("province") == ("nation", "")
