"""Duplicates across provinces: the hub's national search pairs records of two provinces with
the same sealed keys; each province's part reaches its node once and in order; the record's
county decides there (asked to confirm on the page); the decision goes back to the hub."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.core.errors import Conflict, FieldErrors
from xueji.federation.client import HubNationalIndex
from xueji.federation.duplicates import (
    hub_duplicates_scan,
    may_decide_remote,
    national_duplicate_settle,
    outcome_of,
    remote_duplicate_decide,
    remote_duplicate_undo,
)
from xueji.federation.messages import inbox_apply, inbox_drain, message_send
from xueji.federation.models import (
    HubOutbox,
    IndexEntry,
    MatchKey,
    NationalDuplicate,
    Outbox,
    RemoteDuplicate,
    RemoteDuplicateState,
    Tombstone,
)
from xueji.federation.nodes import HUB
from xueji.federation.selectors import lookup_number
from xueji.geo.models import Division
from xueji.students.identity import number_indexes
from xueji.students.models import EventKind, RecordState
from xueji.students.record import record_event_append
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data

from .conftest import as_hub

pytestmark = pytest.mark.django_db


def _registered() -> object:
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    return student_register(
        actor=registrar, school_class_id=school_class.pk, data=student_data()
    ).student


def _keys(record: object, province: str, keys: str = "k1", parents: list[str] | None = None):
    return MatchKey.objects.create(
        record=record,
        province=province,
        keys_index=keys,
        parents=parents or [],
        school_name=f"{province} 学校",
        number_masked=f"G{province}0304********0011",
    )


def test_a_round_searches_only_the_keys_written_since_the_last() -> None:
    """The search costs what changed, not the national index: a round after nothing was written
    reads no group of keys; a new key is searched with its own group only; a key moved to another
    province (a transfer's final step) is searched again and may now pair."""
    import datetime

    from xueji.federation.hub import hub_move

    for n in range(30):
        _keys(uuid.uuid4(), "44", keys=f"g{n}")
        _keys(uuid.uuid4(), "11", keys=f"g{n}")
    stays, moves = uuid.uuid4(), uuid.uuid4()
    _keys(stays, "44", keys="moving")
    _keys(moves, "44", keys="moving")  # one province's pair: not the hub's
    with as_hub():
        assert hub_duplicates_scan() == 30
        assert not MatchKey.objects.filter(scan_pending=True).exists()
        with CaptureQueriesContext(connection) as idle:
            assert hub_duplicates_scan() == 0
        assert len(idle) <= 4, [q["sql"] for q in idle.captured_queries]
        _keys(uuid.uuid4(), "11", keys="g7")
        with CaptureQueriesContext(connection) as one:
            assert hub_duplicates_scan() == 1  # with g7's record of 44; 11 with 11 is 11's own
        assert len(one) < 25, [q["sql"] for q in one.captured_queries]
        hub_move(
            record=str(moves),
            to_province="11",
            school_name="11 学校",
            transfer=str(uuid.uuid4()),
            from_province="44",
            on=datetime.date(2026, 9, 1),
        )
        assert hub_duplicates_scan() == 1
    assert NationalDuplicate.objects.filter(record_a__in=[stays, moves]).count() == 1


def test_the_hub_pairs_records_of_two_provinces_once_and_sends_each_its_part() -> None:
    here = _registered()
    _keys(here.pk, "44", parents=["p-father"])
    other = uuid.uuid4()
    _keys(other, "11", parents=["p-father", "p-x"])
    _keys(uuid.uuid4(), "44")  # a pair within 44 is 44's own identity review's, not the hub's
    _keys(uuid.uuid4(), "11", keys="k2")
    with as_hub():
        assert hub_duplicates_scan() == 2  # 44a~11 and 44b~11
        assert hub_duplicates_scan() == 0  # found before: not again
    pair = (
        NationalDuplicate.objects.get(record_a__in=[here.pk], record_b=other)
        if str(here.pk) < str(other)
        else NationalDuplicate.objects.get(record_a=other, record_b=here.pk)
    )
    assert pair.contributions == {"name_birth_sex": 7.0, "parents": 3.0}
    parts = HubOutbox.objects.filter(payload__pair=str(pair.pk))
    assert {(m.destination, m.payload["record"]) for m in parts} == {
        ("44", str(here.pk)),
        ("11", str(other)),
    }

    part = parts.get(destination="44")
    with override_settings(XUEJI_NODE="province:44"):
        # Both pairs' parts for 44, in the stream's order (the other names no record here).
        assert inbox_drain() == 2
        assert inbox_apply(part) is False  # replayed: once
    review = RemoteDuplicate.objects.get()
    assert (review.record, review.remote_province, review.county) == (
        here.pk,
        "11",
        here.school.county_id,
    )

    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=review.county))
    with override_settings(XUEJI_NODE="province:44"):
        with pytest.raises(FieldErrors):  # "same" says how the child is kept in one province
            remote_duplicate_decide(actor=county, pair=review.pk, same=True, keeps="there")
        remote_duplicate_decide(
            actor=county, pair=review.pk, same=True, keeps="there", note="转学至北京"
        )
    review.refresh_from_db()
    assert review.state == RemoteDuplicateState.SAME
    decided = Outbox.objects.get(topic="duplicate.decided")
    with as_hub():
        assert inbox_apply(decided) is True and inbox_apply(decided) is False
    pair.refresh_from_db()
    assert "same" in (pair.decision_a, pair.decision_b)


@override_settings(XUEJI_NODE="province:44")
def test_the_county_decides_on_the_page_after_confirming_and_others_see_nothing() -> None:
    here = _registered()
    review = RemoteDuplicate.objects.create(
        pair=uuid.uuid4(),
        record=here.pk,
        county=here.school.county_id,
        remote_record=uuid.uuid4(),
        remote_province="11",
        score=7.0,
    )
    client = Client()
    client.force_login(
        member(Role.BUREAU_APPROVER, division=Division.objects.get(code=review.county))
    )
    assert str(review.pk) in client.get("/federation/duplicates/").content.decode()
    url = f"/federation/duplicates/{review.pk}/decision/"
    asked = client.post(url, {"decision": "not_same"})
    assert asked.status_code == 200 and 'name="confirmed"' in asked.content.decode()
    review.refresh_from_db()
    assert review.state == RemoteDuplicateState.PROPOSED
    assert client.post(url, {"decision": "not_same", "confirmed": "yes"}).status_code == 302
    review.refresh_from_db()
    assert review.state == RemoteDuplicateState.NOT_SAME
    other = Client()
    other.force_login(member(Role.BUREAU_APPROVER, division=Division.objects.get(code="110101")))
    assert other.get(f"/federation/duplicates/{review.pk}/").status_code == 404


# ---- the merge across nodes (a "same" decision of both provinces) ------------------------------


def _pair_of(here: object, other: object) -> NationalDuplicate:
    a, b = sorted([str(here.pk), str(other)])  # type: ignore[attr-defined]
    return NationalDuplicate.objects.get(record_a=a, record_b=b)


def _index(record: object, province: str, number: str) -> IndexEntry:
    from django.utils import timezone

    from xueji.students.identity import number_indexes

    return IndexEntry.objects.create(
        kind="number",
        index=number_indexes(number)[0],
        province=province,
        record=record,
        school_name=f"{province} 学校",
        number_masked=f"G{province}****0011",
        state="confirmed",
        reserved_at=timezone.now(),
    )


def _from_11(topic: str, payload: dict[str, object], stream: str) -> object:
    """A message of province 11's node (its county's decision, its merge)."""
    with override_settings(XUEJI_NODE="province:11"), transaction.atomic():
        return message_send(topic=topic, payload=payload, destination=HUB, stream=stream)


def _found_here() -> tuple[object, uuid.UUID, RemoteDuplicate, object]:
    """A record of 44 paired by the hub with a record of 11; 44's part reviewed by its county."""
    here = _registered()
    _keys(here.pk, "44")
    other = uuid.uuid4()
    _keys(other, "11")
    with as_hub():
        assert hub_duplicates_scan() == 1
    with override_settings(XUEJI_NODE="province:44"):
        inbox_drain()
    review = RemoteDuplicate.objects.get()
    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=review.county))
    return here, other, review, county


def _hub_drain() -> int:
    with as_hub():
        return inbox_drain()


def _drain_44() -> int:
    with override_settings(XUEJI_NODE="province:44"):
        return inbox_drain()


@pytest.mark.parametrize(
    ("a", "keeps_a", "b", "keeps_b", "outcome", "keeper"),
    [
        ("same", "11", "same", "11", "merging", "11"),
        ("same", "44", "same", "44", "merging", "44"),
        ("same", "44", "same", "11", "disputed", ""),  # both keep the child
        ("same", "11", "same", "44", "disputed", ""),  # both give it up
        ("same", "11", "not_same", "", "disputed", ""),
        ("not_same", "", "same", "44", "disputed", ""),
        ("not_same", "", "not_same", "", "not_same", ""),
        ("same", "12", "same", "12", "disputed", ""),  # a province not of the pair
    ],
)
def test_the_rule_once_both_provinces_have_decided(a, keeps_a, b, keeps_b, outcome, keeper):
    assert outcome_of(a, keeps_a, b, keeps_b, ("44", "11")) == (outcome, keeper)


def test_both_provinces_same_the_record_here_is_merged_into_the_other_and_the_index_moves():
    here, other, review, county = _found_here()
    number = here.reveal_student_number()
    _index(here.pk, "44", number)
    placement = here.placements.get(end_date__isnull=True)
    with override_settings(XUEJI_NODE="province:44"):
        with pytest.raises(FieldErrors) as refused:  # "same" names the province keeping it
            remote_duplicate_decide(actor=county, pair=review.pk, same=True, note="在北京就读")
        assert "keeps" in refused.value.errors
        remote_duplicate_decide(
            actor=county, pair=review.pk, same=True, keeps="there", note="在北京就读"
        )
    review.refresh_from_db()
    assert (review.state, review.keeps) == (RemoteDuplicateState.SAME, "11")
    assert _hub_drain() == 1
    pair = _pair_of(here, other)
    assert pair.outcome == "" and "11" in (pair.keeps_a, pair.keeps_b)

    # 11's county agrees: the hub tells 44, whose record goes, to merge it into 11's.
    _from_11(
        "duplicate.decided",
        {
            "pair": str(pair.pk),
            "record": str(other),
            "decision": "same",
            "keeps": "11",
            "note": "孩子在北京",
            "round": 1,
        },
        f"duplicates:{pair.pk}",
    )
    assert _hub_drain() == 1
    pair.refresh_from_db()
    assert (pair.outcome, str(pair.keeper_record)) == ("merging", str(other))
    merge = HubOutbox.objects.get(topic="duplicate.outcome", destination="44")
    assert merge.payload["outcome"] == "merge"

    assert _drain_44() == 1
    with override_settings(XUEJI_NODE="province:44"):
        assert inbox_apply(merge) is False  # replayed: once
    here.refresh_from_db()
    placement.refresh_from_db()
    review.refresh_from_db()
    assert here.state == RecordState.MERGED and placement.end_date is not None
    assert here.events.filter(kind=EventKind.MERGED_AWAY).count() == 1
    assert review.state == RemoteDuplicateState.MERGED_AWAY
    assert (review.other_decision, review.other_keeps, review.other_note) == (
        "same",
        "11",
        "孩子在北京",
    )
    tomb = Tombstone.objects.get(record=here.pk)
    assert (tomb.province, tomb.merged_into) == ("11", other)
    with override_settings(XUEJI_NODE="province:44"):
        holder = HubNationalIndex().holder_of_number(number)
    assert holder is not None and (str(holder.student_id), holder.province_code) == (
        str(other),
        "11",
    )

    # The hub moves the number to 11's record and tells 11 (its pair shows merged).
    merged = Outbox.objects.get(topic="duplicate.merged")
    assert merged.payload["ok"] is True
    assert _hub_drain() == 1
    with as_hub():
        assert inbox_apply(merged) is False
        found = lookup_number(number)
    assert found is not None and found.province == "11"
    entry = IndexEntry.objects.get(index=number_indexes(number)[0])
    assert (entry.province, entry.record) == ("11", other)
    assert not MatchKey.objects.filter(record=here.pk).exists()
    pair.refresh_from_db()
    assert pair.outcome == "merged"
    assert (
        HubOutbox.objects.get(topic="duplicate.outcome", destination="11").payload["outcome"]
        == "kept"
    )

    # Undone by 44's county within 30 days: the record, the tombstone and the index come back.
    with override_settings(XUEJI_NODE="province:44"):
        remote_duplicate_undo(actor=county, pair=review.pk)
    here.refresh_from_db()
    placement.refresh_from_db()
    assert here.state == RecordState.ENROLLED and placement.end_date is None
    assert not Tombstone.objects.filter(record=here.pk).exists()
    assert _hub_drain() == 1
    entry.refresh_from_db()
    assert (entry.province, entry.record) == ("44", here.pk)
    assert MatchKey.objects.filter(record=here.pk, province="44").exists()
    assert HubOutbox.objects.filter(
        topic="duplicate.outcome", destination="11", payload__outcome="undone"
    ).exists()


def test_the_undo_is_refused_after_30_days_or_once_the_record_changed():
    import datetime

    from django.utils import timezone

    here, other, review, county = _found_here()
    with override_settings(XUEJI_NODE="province:44"):
        remote_duplicate_decide(actor=county, pair=review.pk, same=True, keeps="there", note="x")
    _hub_drain()
    pair = _pair_of(here, other)
    _from_11(
        "duplicate.decided",
        {"pair": str(pair.pk), "record": str(other), "decision": "same", "keeps": "11", "round": 1},
        f"duplicates:{pair.pk}",
    )
    _hub_drain()
    _drain_44()
    review.refresh_from_db()
    RemoteDuplicate.objects.filter(pk=review.pk).update(
        settled_at=timezone.now() - datetime.timedelta(days=31)
    )
    with override_settings(XUEJI_NODE="province:44"), pytest.raises(Conflict) as late:
        remote_duplicate_undo(actor=county, pair=review.pk)
    assert late.value.code == "undo_too_late"
    RemoteDuplicate.objects.filter(pk=review.pk).update(settled_at=timezone.now())
    with transaction.atomic():  # the record changed since the merge
        record_event_append(
            student=here, kind=EventKind.NUMBER_CHANGED, on=timezone.localdate(), actor=None
        )
    with override_settings(XUEJI_NODE="province:44"), pytest.raises(Conflict) as moved:
        remote_duplicate_undo(actor=county, pair=review.pk)
    assert moved.value.code == "moved_since"


def test_the_record_here_is_kept_and_its_history_says_the_other_merged_into_it():
    here, other, review, county = _found_here()
    with override_settings(XUEJI_NODE="province:44"):
        remote_duplicate_decide(
            actor=county, pair=review.pk, same=True, keeps="here", note="在深圳"
        )
    _hub_drain()
    pair = _pair_of(here, other)
    _from_11(
        "duplicate.decided",
        {"pair": str(pair.pk), "record": str(other), "decision": "same", "keeps": "44", "round": 1},
        f"duplicates:{pair.pk}",
    )
    _hub_drain()
    assert HubOutbox.objects.get(topic="duplicate.outcome").destination == "11"  # 11's goes
    _from_11(
        "duplicate.merged",
        {"pair": str(pair.pk), "record": str(other), "ok": True, "code": ""},
        f"duplicates:{pair.pk}",
    )
    assert _hub_drain() == 1
    kept = HubOutbox.objects.get(topic="duplicate.outcome", destination="44")
    assert _drain_44() == 1
    with override_settings(XUEJI_NODE="province:44"):
        assert inbox_apply(kept) is False
    review.refresh_from_db()
    here.refresh_from_db()
    assert review.state == RemoteDuplicateState.KEPT and here.state == RecordState.ENROLLED
    assert (review.other_decision, review.other_keeps) == ("same", "44")
    assert here.events.filter(kind=EventKind.DUPLICATE_MERGED).count() == 1


def test_a_dispute_goes_back_to_both_counties_with_the_other_answer_and_a_new_round():
    here, other, review, county = _found_here()
    with override_settings(XUEJI_NODE="province:44"):
        remote_duplicate_decide(
            actor=county, pair=review.pk, same=True, keeps="here", note="在深圳"
        )
    _hub_drain()
    pair = _pair_of(here, other)
    _from_11(  # 11 keeps the child too
        "duplicate.decided",
        {
            "pair": str(pair.pk),
            "record": str(other),
            "decision": "same",
            "keeps": "11",
            "note": "在北京",
            "round": 1,
        },
        f"duplicates:{pair.pk}",
    )
    _hub_drain()
    pair.refresh_from_db()
    assert (pair.outcome, pair.round, pair.decision_a, pair.decision_b) == ("disputed", 2, "", "")
    assert set(
        HubOutbox.objects.filter(topic="duplicate.outcome").values_list("destination", flat=True)
    ) == {"44", "11"}
    _drain_44()
    review.refresh_from_db()
    assert (review.state, review.round, review.other_keeps, review.other_note) == (
        RemoteDuplicateState.DISPUTED,
        2,
        "11",
        "在北京",
    )
    here.refresh_from_db()
    assert here.state == RecordState.ENROLLED  # nothing merged
    # A decision of the closed round arriving late changes nothing.
    _from_11(
        "duplicate.decided",
        {"pair": str(pair.pk), "record": str(other), "decision": "not_same", "round": 1},
        f"duplicates:{pair.pk}",
    )
    _hub_drain()
    pair.refresh_from_db()
    assert (pair.decision_a, pair.decision_b) == ("", "")
    # Round 2: both "not the same": closed on both sides.
    with override_settings(XUEJI_NODE="province:44"):
        remote_duplicate_decide(actor=county, pair=review.pk, same=False)
    _from_11(
        "duplicate.decided",
        {"pair": str(pair.pk), "record": str(other), "decision": "not_same", "round": 2},
        f"duplicates:{pair.pk}",
    )
    _hub_drain()
    pair.refresh_from_db()
    assert pair.outcome == "not_same"
    _drain_44()
    review.refresh_from_db()
    assert review.state == RemoteDuplicateState.NOT_SAME and review.settled_at is not None
    assert not may_decide_remote(county, review)


def test_a_node_that_cannot_merge_says_so_and_the_pair_closes_on_both_sides():
    here, other, review, county = _found_here()
    with override_settings(XUEJI_NODE="province:44"):
        remote_duplicate_decide(actor=county, pair=review.pk, same=True, keeps="there", note="x")
    _hub_drain()
    pair = _pair_of(here, other)
    _from_11(
        "duplicate.decided",
        {"pair": str(pair.pk), "record": str(other), "decision": "same", "keeps": "11", "round": 1},
        f"duplicates:{pair.pk}",
    )
    _hub_drain()
    Tombstone.objects.create(  # the record moved to 12 meanwhile
        record=here.pk,
        number_index=here.number_index,
        number_masked=here.number_masked,
        province="12",
        moved_on=here.placements.first().start_date,
    )
    _drain_44()
    review.refresh_from_db()
    here.refresh_from_db()
    assert (review.state, review.refusal) == (RemoteDuplicateState.CLOSED, "record_moved")
    assert here.state == RecordState.ENROLLED
    assert Outbox.objects.get(topic="duplicate.merged").payload["ok"] is False
    _hub_drain()
    pair.refresh_from_db()
    assert pair.outcome == "refused"
    told = HubOutbox.objects.get(topic="duplicate.outcome", destination="11")
    assert (told.payload["outcome"], told.payload["code"]) == ("refused", "record_moved")


# ---- the national bureau settles a disputed pair (hub) ------------------------------------------


def _disputed() -> tuple[object, uuid.UUID, RemoteDuplicate, NationalDuplicate]:
    here, other, review, county = _found_here()
    with override_settings(XUEJI_NODE="province:44"):
        remote_duplicate_decide(actor=county, pair=review.pk, same=False)
    _hub_drain()
    pair = _pair_of(here, other)
    _from_11(
        "duplicate.decided",
        {"pair": str(pair.pk), "record": str(other), "decision": "same", "keeps": "11", "round": 1},
        f"duplicates:{pair.pk}",
    )
    _hub_drain()
    _drain_44()
    pair.refresh_from_db()
    assert pair.outcome == "disputed"
    return here, other, review, pair


def test_the_national_bureau_settles_a_dispute_and_the_record_is_merged_into_the_keepers():
    here, other, review, pair = _disputed()
    nation = member(Role.BUREAU_APPROVER)
    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=review.county))
    with as_hub():
        with pytest.raises(PermissionRefused):  # a county does not settle
            national_duplicate_settle(actor=county, pair=pair.pk, same=False, note="x")
        with pytest.raises(FieldErrors) as refused:  # a keeper of the pair's provinces
            national_duplicate_settle(actor=nation, pair=pair.pk, same=True, keeps="12", note="x")
        assert "keeps" in refused.value.errors
        national_duplicate_settle(
            actor=nation, pair=pair.pk, same=True, keeps="11", note="学籍核查：在北京就读"
        )
        with pytest.raises(Conflict):  # settled: once
            national_duplicate_settle(actor=nation, pair=pair.pk, same=False, note="x")
    pair.refresh_from_db()
    assert (pair.outcome, str(pair.keeper_record)) == ("merging", str(other))
    assert pair.settled_by_name
    _drain_44()
    review.refresh_from_db()
    here.refresh_from_db()
    assert review.state == RemoteDuplicateState.MERGED_AWAY and here.state == RecordState.MERGED
    assert review.other_note == "学籍核查：在北京就读"


def test_the_national_page_settles_after_confirming_and_a_county_may_not_open_it():
    _here, _other, review, pair = _disputed()
    client = Client()
    client.force_login(member(Role.BUREAU_APPROVER))
    with as_hub():
        assert f'id="pair-{pair.pk}"' in client.get("/national/duplicates/").content.decode()
        url = f"/national/duplicates/{pair.pk}/settle/"
        asked = client.post(url, {"keeps": "not_same", "note": "两人出生医学证明不同"})
        assert asked.status_code == 200 and 'name="confirmed"' in asked.content.decode()
        pair.refresh_from_db()
        assert pair.outcome == "disputed"
        done = client.post(
            url, {"keeps": "not_same", "note": "两人出生医学证明不同", "confirmed": "yes"}
        )
        assert done.status_code == 302
    pair.refresh_from_db()
    assert pair.outcome == "not_same"
    _drain_44()
    review.refresh_from_db()
    assert review.state == RemoteDuplicateState.NOT_SAME
    county = Client()
    county.force_login(
        member(Role.BUREAU_APPROVER, division=Division.objects.get(code=review.county))
    )
    assert county.get("/national/duplicates/").status_code == 403
