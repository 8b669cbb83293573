"""audit_search: auditors only, their area only, every filter, pages both ways."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from xueji.audit import services
from xueji.audit.services import audit_record
from xueji.core.errors import ServiceError
from xueji.trail.selectors import AuditFilters, audit_search

pytestmark = pytest.mark.django_db


def actions(page):
    return [(entry.actor_username, entry.action) for entry in page.entries]


def registrations_seen_by(user, world):
    page = audit_search(user, AuditFilters(action="student.register"))
    return {entry.object_id for entry in page.entries}


@pytest.mark.parametrize("role", ["registrar_a", "futian_bureau", "nation", "admin", "nobody"])
def test_only_auditors_read_the_trail(world, role):
    with pytest.raises(ServiceError) as refused:
        audit_search(getattr(world, role), AuditFilters())
    assert refused.value.code == "forbidden"
    assert refused.value.status == 403


def test_each_auditor_sees_the_registrations_of_their_area(world):
    a, b, c = world.student_a.pk, world.student_b.pk, world.student_c.pk
    assert registrations_seen_by(world.auditor, world) == {a, b, c}
    assert registrations_seen_by(world.city_auditor, world) == {a, b, c}
    assert registrations_seen_by(world.futian_auditor, world) == {a, b}
    assert registrations_seen_by(world.nanshan_auditor, world) == {c}


def test_an_auditor_sees_what_outsiders_did_to_the_students_of_the_area(world):
    audit_record(
        actor=world.nation,
        action="student.view",
        object_type="student",
        object_id=world.student_a.pk,
    )
    audit_record(
        actor=world.nation,
        action="student.view",
        object_type="student",
        object_id=world.student_c.pk,
    )
    page = audit_search(world.futian_auditor, AuditFilters(action="student.view"))
    assert [entry.object_id for entry in page.entries] == [world.student_a.pk]


def test_bureau_staff_actions_belong_to_their_division(world):
    audit_record(actor=world.futian_bureau, action="window.open")
    audit_record(actor=world.nanshan_bureau, action="window.open")
    seen = {
        who: actions(audit_search(getattr(world, who), AuditFilters(action="window.")))
        for who in ("futian_auditor", "nanshan_auditor", "city_auditor")
    }
    assert seen["futian_auditor"] == [(world.futian_bureau.username, "window.open")]
    assert seen["nanshan_auditor"] == [(world.nanshan_bureau.username, "window.open")]
    assert len(seen["city_auditor"]) == 2


def test_filter_by_student_id_or_number(world):
    by_id = audit_search(world.auditor, AuditFilters(student=str(world.student_a.pk)))
    assert [e.object_id for e in by_id.entries] == [world.student_a.pk]
    by_number = audit_search(
        world.auditor, AuditFilters(student=world.student_a.reveal_student_number())
    )
    assert by_number.student_id == world.student_a.pk
    assert [e.object_id for e in by_number.entries] == [world.student_a.pk]


def test_a_number_outside_the_auditors_area_finds_no_student(world):
    page = audit_search(
        world.futian_auditor, AuditFilters(student=world.student_c.reveal_student_number())
    )
    assert page.student_not_found
    assert page.entries == []


def test_filter_by_user_and_action(world):
    page = audit_search(world.auditor, AuditFilters(user=world.registrar_b.username.upper()))
    assert actions(page) == [(world.registrar_b.username, "student.register")]
    assert audit_search(world.auditor, AuditFilters(action="student.reg")).entries
    assert audit_search(world.auditor, AuditFilters(action="register")).entries == []


def test_filter_by_period_includes_both_days(world, monkeypatch):
    for day in (datetime.date(2026, 3, 1), datetime.date(2026, 3, 2), datetime.date(2026, 3, 3)):
        at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))
        monkeypatch.setattr(services, "_now", lambda at=at: at)
        with transaction.atomic():
            audit_record(actor=world.auditor, action="test.dated", detail={"day": day})
    page = audit_search(
        world.auditor,
        AuditFilters(
            action="test.dated", since=datetime.date(2026, 3, 2), until=datetime.date(2026, 3, 3)
        ),
    )
    assert [entry.detail["day"] for entry in page.entries] == ["2026-03-03", "2026-03-02"]


def test_pages_go_older_and_back_newer(world):
    for number in range(7):
        audit_record(actor=world.auditor, action="test.paged", detail={"n": number})
    filters = AuditFilters(action="test.paged")
    first = audit_search(world.auditor, filters, limit=3)
    assert [e.detail["n"] for e in first.entries] == [6, 5, 4]
    assert first.newer is None and first.older == first.entries[-1].pk
    second = audit_search(
        world.auditor, AuditFilters(action="test.paged", before=first.older), limit=3
    )
    assert [e.detail["n"] for e in second.entries] == [3, 2, 1]
    assert second.newer == second.entries[0].pk
    last = audit_search(
        world.auditor, AuditFilters(action="test.paged", before=second.older), limit=3
    )
    assert [e.detail["n"] for e in last.entries] == [0]
    assert last.older is None
    back = audit_search(world.auditor, AuditFilters(action="test.paged", after=last.newer), limit=3)
    assert [e.detail["n"] for e in back.entries] == [3, 2, 1]
    assert back.older == back.entries[-1].pk and back.newer == back.entries[0].pk


def test_pages_follow_the_order_of_writing_across_the_chains_of_two_counties(world):
    """Futian's and Nanshan's entries are numbered in chains of their own: a page of the national
    auditor still goes newest first across both, each entry once."""
    for number in range(6):
        actor = world.futian_bureau if number % 2 else world.nanshan_bureau
        with transaction.atomic():
            audit_record(actor=actor, action="test.two_chains", detail={"n": number})
    seen, before = [], None
    while True:
        page = audit_search(
            world.auditor, AuditFilters(action="test.two_chains", before=before), limit=2
        )
        seen += [entry.detail["n"] for entry in page.entries]
        if page.older is None:
            break
        before = page.older
    assert seen == [5, 4, 3, 2, 1, 0]
