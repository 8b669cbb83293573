"""Verification closed by the ministry or the province (a closed period of the operation
"verification", set on the changes' page of closed periods): no window is opened on its days,
and no check is made while it lasts, even in a window opened before."""

import datetime

import pytest

from xueji.access.models import Role
from xueji.access.tests.fixtures import FIRST, LAST
from xueji.changes.services import closed_period_add, closed_period_lift
from xueji.core.errors import Conflict, FieldErrors
from xueji.geo.models import Division
from xueji.testing.factories import member
from xueji.verification.models import StudentCheck, VerificationWindow
from xueji.verification.services import student_confirm, window_open

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def guangdong():
    return member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440000"))


def test_no_window_is_opened_on_closed_days(school, guangdong):
    closed_period_add(
        actor=guangdong,
        operation="verification",
        starts_on=D(2026, 9, 20),
        ends_on=D(2026, 9, 30),
        on=D(2026, 9, 1),
    )
    with pytest.raises(FieldErrors) as refused:
        window_open(actor=school["approver"], opens_on=D(2026, 9, 28), closes_on=D(2026, 10, 9))
    error = refused.value.errors["opens_on"][0]
    assert error.code == "verification_closed"
    assert "2026-09-30" in error.messages[0]
    assert VerificationWindow.objects.count() == 1
    later = window_open(actor=school["approver"], opens_on=D(2026, 10, 8), closes_on=D(2026, 10, 9))
    assert later.opens_on == D(2026, 10, 8)


def test_the_settings_may_close_verification_for_a_province(school, settings):
    settings.XUEJI_PROVINCE_RULES = {
        "44": {"closed": [{"kind": "verification", "from": "10-01", "to": "10-07"}]}
    }
    with pytest.raises(FieldErrors):
        window_open(actor=school["approver"], opens_on=D(2026, 10, 6), closes_on=D(2026, 10, 9))


def test_no_check_is_made_while_verification_is_closed(school, guangdong, today):
    period = closed_period_add(
        actor=guangdong, operation="verification", starts_on=FIRST, ends_on=LAST, on=D(2026, 9, 1)
    )
    today(FIRST)
    with pytest.raises(Conflict) as refused:
        student_confirm(actor=school["teacher"], student_id=school["pupil"].pk)
    assert refused.value.code == "verification_closed"
    assert not StudentCheck.objects.exists()
    closed_period_lift(actor=guangdong, period_id=period.pk, reason="按期核查", on=FIRST)
    assert student_confirm(actor=school["teacher"], student_id=school["pupil"].pk).outcome == (
        "confirmed"
    )
