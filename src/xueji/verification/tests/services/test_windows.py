"""County approvers open and close verification windows; nobody else does."""

import datetime

import pytest

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.access.tests.fixtures import FIRST, LAST
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.testing.factories import member
from xueji.verification.models import VerificationWindow
from xueji.verification.services import window_close, window_open

pytestmark = pytest.mark.django_db


def test_a_window_belongs_to_the_approver_s_county_and_term_and_is_audited(school):
    window = school["window"]
    assert window.county_id == "440304"
    assert (window.term.academic_year.start_year, window.term.number) == (2026, 1)
    assert window.opened_by == school["approver"]
    entry = AuditEntry.objects.filter(action="verification_window.open").latest("id")
    assert entry.actor == school["approver"]
    assert entry.after["opens_on"] == FIRST.isoformat()


@pytest.mark.parametrize(
    ("opens_on", "closes_on", "code"),
    [
        (datetime.date(2026, 9, 20), datetime.date(2026, 9, 19), "window_dates_order"),
        (datetime.date(2026, 8, 20), datetime.date(2026, 8, 31), "window_in_the_past"),
        (datetime.date(2026, 9, 20), datetime.date(2026, 11, 30), "window_too_long"),
        (datetime.date(2027, 1, 25), datetime.date(2027, 2, 5), "window_crosses_terms"),
    ],
)
def test_impossible_windows_are_refused_with_the_reason(school, opens_on, closes_on, code):
    with pytest.raises(FieldErrors) as refused:
        window_open(actor=school["approver"], opens_on=opens_on, closes_on=closes_on)
    assert refused.value.errors["closes_on"][0].code == code


def test_two_windows_of_a_county_cannot_overlap_but_may_follow_each_other(school):
    with pytest.raises(Conflict):
        window_open(
            actor=school["approver"], opens_on=LAST, closes_on=LAST + datetime.timedelta(days=2)
        )
    later = window_open(
        actor=school["approver"],
        opens_on=LAST + datetime.timedelta(days=1),
        closes_on=LAST + datetime.timedelta(days=3),
    )
    assert later.pk != school["window"].pk


@pytest.mark.parametrize(
    ("role", "division"),
    [
        (Role.BUREAU_VIEWER, "440304"),
        (Role.BUREAU_APPROVER, "440300"),
        (Role.BUREAU_APPROVER, "440000"),
        (Role.AUDITOR, "440304"),
    ],
)
def test_only_a_county_approver_opens_a_window(school, role, division):
    user = member(role, division=Division.objects.get(code=division))
    with pytest.raises(PermissionRefused):
        window_open(actor=user, opens_on=FIRST, closes_on=LAST)


def test_school_staff_cannot_open_a_window(school):
    for user in (school["registrar"], school["principal"], school["teacher"]):
        with pytest.raises(PermissionRefused):
            window_open(actor=user, opens_on=FIRST, closes_on=LAST)


def test_closing_is_for_the_county_s_own_approver_once(school, today):
    nanshan = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440305"))
    with pytest.raises(NotFound):
        window_close(actor=nanshan, window_id=school["window"].pk)
    today(FIRST)
    closed = window_close(actor=school["approver"], window_id=school["window"].pk)
    assert closed.closed_by == school["approver"] and closed.closed_at is not None
    with pytest.raises(Conflict):
        window_close(actor=school["approver"], window_id=school["window"].pk)
    assert VerificationWindow.objects.open_on(FIRST).count() == 0


def test_a_window_that_is_over_cannot_be_closed(school, today):
    today(LAST + datetime.timedelta(days=1))
    with pytest.raises(Conflict):
        window_close(actor=school["approver"], window_id=school["window"].pk)
