"""A registration on a provincial node reserves its numbers at the hub before it commits; two
provinces registering the same child end with one record, the other refused naming the province;
with the hub down the registration goes on and the reservation is completed later."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.federation.client import pending_retry
from xueji.federation.messages import inbox_drain
from xueji.federation.models import (
    EntryState,
    Inbox,
    IndexEntry,
    Outbox,
    PendingReservation,
    PendingState,
)
from xueji.students.models import Student
from xueji.students.national import HeldInProvince, national_index
from xueji.students.services import RegisteredElsewhere, student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data

from .conftest import as_hub

pytestmark = pytest.mark.django_db


def _register(data=None):
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    data = data or student_data()
    return student_register(actor=registrar, school_class_id=school_class.pk, data=data), data


def _held_by_beijing(student: Student) -> None:
    """Province 11 holds the child's ID number at the hub (its registration came first)."""
    IndexEntry.objects.create(
        kind="document",
        index=student.id_number_index,
        province="11",
        record=uuid.uuid4(),
        school_name="北京第一小学",
        number_masked="G110101********0011",
        state=EntryState.CONFIRMED,
        reserved_at=timezone.now(),
    )


def test_a_registration_reserves_its_numbers_at_the_hub_then_confirms_them(hub) -> None:
    registration, _data = _register()
    student = registration.student
    entries = IndexEntry.objects.filter(record=student.pk)
    assert {(e.kind, e.province, e.state) for e in entries} == {
        ("number", "44", EntryState.RESERVED),
        ("document", "44", EntryState.RESERVED),
    }
    assert "/hub/v1/reserve/" in hub.requests
    # The confirmation went into the outbox in the registration's transaction...
    message = Outbox.objects.get(topic="index.confirm")
    assert message.payload == {"record": str(student.pk)}
    assert (message.source, message.destination, message.seq) == ("44", "00", 1)
    # ...and once the hub applies it, the reservation holds for good, exactly once.
    with as_hub():
        assert inbox_drain() == 1
        assert inbox_drain() == 0
    assert set(entries.values_list("state", flat=True)) == {EntryState.CONFIRMED}
    assert Inbox.objects.count() == 1


def test_a_number_another_province_holds_is_refused_before_the_registration(hub) -> None:
    data = student_data()
    first, _ = _register(data)
    # Move the first record to province 11 as the hub sees it and drop it here.
    IndexEntry.objects.filter(record=first.student.pk).update(
        province="11", state=EntryState.CONFIRMED
    )
    index_value = first.student.id_number_index
    Student.objects.filter(pk=first.student.pk).update(
        id_number_index="x" + index_value[1:], number_index="y" + first.student.number_index[1:]
    )
    with pytest.raises(RegisteredElsewhere):
        _register(data)
    holder = national_index().holder_of_document(data.id_doc_type, data.id_number)
    assert holder is not None and holder.province_code == "11"


def test_two_provinces_at_the_same_moment_one_record_the_other_refused_naming_it(hub) -> None:
    data = student_data()
    before = Student.objects.count()

    def beijing_reserves_first() -> None:
        # Between this node's check and its reservation, province 11 reserved the same child.
        from xueji.students.identity import document_index

        IndexEntry.objects.create(
            kind="document",
            index=document_index(data.id_doc_type, data.id_number),
            province="11",
            record=uuid.uuid4(),
            school_name="北京第一小学",
            number_masked="G110101********0011",
            state=EntryState.RESERVED,
            reserved_at=timezone.now(),
        )

    hub.before["/hub/v1/reserve/"] = beijing_reserves_first
    with pytest.raises(HeldInProvince) as refused:
        _register(data)
    assert refused.value.code == "registered_in_province"
    assert "北京" in str(refused.value.message)
    assert refused.value.details["province"] == "11"
    assert Student.objects.count() == before  # nothing of the registration was kept
    assert not Outbox.objects.exists()
    # The hub kept nothing of the refused reservation either (all or none).
    assert not IndexEntry.objects.filter(province="44").exists()


def test_with_the_hub_down_the_registration_goes_on_and_completes_later(hub) -> None:
    hub.down = True
    registration, _data = _register()
    student = registration.student
    pending = PendingReservation.objects.get(record=student.pk)
    assert pending.state == PendingState.PENDING
    assert "down" in pending.last_error
    assert not IndexEntry.objects.exists()
    # Registered all the same, under an L number (临时学籍号) until the hub reserves its G.
    student.refresh_from_db()
    assert student.number_kind == "L" and student.number_masked.startswith("L")
    # Still down: the retry keeps it.
    assert pending_retry()["pending"] == 1
    hub.down = False
    assert pending_retry() == {"reserved": 1, "held": 0, "pending": 0}
    pending.refresh_from_db()
    assert pending.state == PendingState.RESERVED and pending.attempts == 2
    assert IndexEntry.objects.filter(record=student.pk).count() == 2
    assert Outbox.objects.filter(topic="index.confirm").count() == 1
    assert pending_retry() == {"reserved": 0, "held": 0, "pending": 0}
    student.refresh_from_db()
    assert student.number_kind == "G"
    assert student.former_numbers.filter(kind="L").count() == 1


def test_a_pending_reservation_held_elsewhere_goes_to_the_duplicate_review(hub) -> None:
    hub.down = True
    registration, _data = _register()
    _held_by_beijing(registration.student)
    hub.down = False
    assert pending_retry() == {"reserved": 0, "held": 1, "pending": 0}
    pending = PendingReservation.objects.get(record=registration.student.pk)
    assert pending.state == PendingState.HELD
    assert pending.held_by_province == "11"
    assert not IndexEntry.objects.filter(record=registration.student.pk).exists()
    registration.student.refresh_from_db()
    assert registration.student.number_kind == "L"  # stays L until the review decides


def test_a_lapsed_reservation_frees_the_number(hub, settings) -> None:
    registration, _ = _register()
    import dataclasses

    from xueji.federation.hub import hub_reserve
    from xueji.students.national import reservation_request

    request = dataclasses.replace(
        reservation_request(registration.student), record=str(uuid.uuid4())
    )
    # Another province's reservation, still within its time: held.
    entries = IndexEntry.objects.filter(record=registration.student.pk)
    entries.update(province="11")
    assert hub_reserve(province="44", request=request)[0] == "held"
    # Never confirmed and past its time (its registration rolled back): the number is free.
    entries.update(reserved_at=timezone.now() - timezone.timedelta(hours=1))
    assert hub_reserve(province="44", request=request) == ("reserved", None)
    assert set(IndexEntry.objects.values_list("province", "record")) == {
        ("44", uuid.UUID(request.record))
    }


def test_claims_once_in_the_country_through_the_hub(hub) -> None:
    index = national_index()
    assert index.claim_once(purpose="aid", key="child:2026-1", holder="44") is True
    assert index.claim_once(purpose="aid", key="child:2026-1", holder="44") is False
    hub.down = True
    from xueji.federation.client import HubUnavailable

    with pytest.raises(HubUnavailable):
        index.claim_once(purpose="aid", key="child:2026-2", holder="44")


def test_the_duplicate_search_asks_the_hub_for_other_provinces(hub) -> None:
    from xueji.federation.models import MatchKey
    from xueji.students.national import MatchKeys, match_keys_index

    registration, data = _register()
    student = registration.student
    keys = MatchKeys(student.name_pinyin, data.birth_date, data.sex)
    other = uuid.uuid4()
    MatchKey.objects.create(
        record=other, province="11", keys_index=match_keys_index(keys), number_masked="G11…"
    )
    found = national_index().similar_records(keys)
    assert {str(h.student_id) for h in found} == {str(student.pk), str(other)}
    assert {h.province_code for h in found} >= {"11"}
