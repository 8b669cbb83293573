"""Duplicates across provinces: the hub's national search pairs records of two provinces with
the same sealed keys; each province's part reaches its node once and in order; the record's
county decides there (asked to confirm on the page); the decision goes back to the hub."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client, override_settings

from xueji.access.models import Role
from xueji.core.errors import FieldErrors
from xueji.federation.duplicates import hub_duplicates_scan, remote_duplicate_decide
from xueji.federation.messages import inbox_apply, inbox_drain
from xueji.federation.models import (
    HubOutbox,
    MatchKey,
    NationalDuplicate,
    Outbox,
    RemoteDuplicate,
    RemoteDuplicateState,
)
from xueji.geo.models import Division
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
            remote_duplicate_decide(actor=county, pair=review.pk, same=True)
        remote_duplicate_decide(actor=county, pair=review.pk, same=True, note="转学至北京")
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
