"""On PostgreSQL, with real threads: one enrolment code used by several requests at once sets up
one authenticator; one recovery code sent at once lets in one session; an enrolment racing an
administrator's reset ends either enrolled or reset, never half of each."""

import pytest
from django_otp.plugins.otp_static.models import StaticToken

from xueji.access.models import Role
from xueji.accounts.second_factor.models import Authenticator, EnrolmentCode
from xueji.accounts.second_factor.services import (
    second_factor_code_issue,
    second_factor_enrol,
    second_factor_recover,
    second_factor_reset,
)
from xueji.accounts.tests.second_factor.enrolment import KEY, code_for, enrol
from xueji.audit.models import AuditEntry
from xueji.geo.models import Division
from xueji.testing.concurrency import race
from xueji.testing.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def viewer():
    return member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440304"))


def test_one_enrolment_code_sets_up_one_authenticator(viewer):
    code = second_factor_code_issue(actor=None, user=viewer).code

    def enrol_once():
        second_factor_enrol(actor=viewer, enrolment_code=code, key=KEY, token=code_for(KEY))

    outcomes = race(*[enrol_once] * 4)
    assert outcomes.count("done") == 1
    assert set(outcomes) - {"done"} == {"second_factor_exists"}
    assert Authenticator.objects.filter(user=viewer).count() == 1
    assert StaticToken.objects.filter(device__user=viewer).count() == 10
    assert AuditEntry.objects.filter(action="account.second_factor_enrol").count() == 1


def test_one_recovery_code_lets_in_once(viewer):
    codes = enrol(viewer).recovery_codes
    outcomes = race(*[lambda: second_factor_recover(actor=viewer, code=codes[0])] * 4)
    assert outcomes.count("done") == 1
    assert StaticToken.objects.filter(device__user=viewer).count() == 9


def test_an_enrolment_racing_a_reset_ends_whole(viewer):
    admin = member(Role.SECURITY_ADMIN, division=Division.objects.get(code="440304"))
    code = second_factor_code_issue(actor=admin, user=viewer).code
    outcomes = race(
        lambda: second_factor_enrol(
            actor=viewer, enrolment_code=code, key=KEY, token=code_for(KEY)
        ),
        lambda: second_factor_reset(actor=admin, user=viewer),
    )
    devices = Authenticator.objects.filter(user=viewer).count()
    pending = EnrolmentCode.objects.filter(used_at__isnull=True, revoked_at__isnull=True).count()
    if outcomes == ["done", "done"]:  # the reset came second: nothing is left of either
        assert devices == 0 and pending == 0
        assert StaticToken.objects.filter(device__user=viewer).count() == 0
    else:  # the reset came first: the code was revoked, the enrolment refused
        assert outcomes == ["done", "enrolment_code_revoked"]
        assert devices == 0 and pending == 0
