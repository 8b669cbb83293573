"""The second factor is set up only with a single-use code an administrator issued (72 hours,
kept as a digest), gives ten single-use recovery codes, and a lost authenticator is reset by an
administrator; every step, refused or not, is audited."""

import datetime

import pytest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.accounts.second_factor.codes import enrolment_digest, normalized
from xueji.accounts.second_factor.models import Authenticator, EnrolmentCode
from xueji.accounts.second_factor.services import (
    second_factor_code_issue,
    second_factor_enrol,
    second_factor_recover,
    second_factor_reset,
)
from xueji.accounts.tests.second_factor.enrolment import KEY, code_for, enrol
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(futian):
    return member(Role.SECURITY_ADMIN, division=futian, username="futian-admin")


def refusal(excinfo) -> str:
    return excinfo.value.code


def entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


# ---- issuing ------------------------------------------------------------------------------------


def test_an_issued_code_is_shown_once_and_kept_only_as_a_digest(admin, bureau):
    issued = second_factor_code_issue(actor=admin, user=bureau)
    assert len(normalized(issued.code)) == 16
    stored = EnrolmentCode.objects.get(user=bureau)
    assert stored.digest == enrolment_digest(issued.code)
    assert normalized(issued.code) not in stored.digest
    assert stored.issued_by == admin
    assert stored.expires_at - stored.issued_at == datetime.timedelta(hours=72)
    (entry,) = entries("account.second_factor_code_issue")
    assert entry.actor == admin
    assert entry.detail["user"] == "futian-viewer"
    assert normalized(issued.code) not in str(entry.detail)


def test_a_new_code_revokes_the_pending_one(admin, bureau):
    first = second_factor_code_issue(actor=admin, user=bureau)
    second_factor_code_issue(actor=admin, user=bureau)
    assert EnrolmentCode.objects.filter(user=bureau, revoked_at__isnull=True).count() == 1
    with pytest.raises(FieldErrors) as refused:
        second_factor_enrol(actor=bureau, enrolment_code=first.code, key=KEY, token=code_for(KEY))
    assert refusal(refused) == "enrolment_code_revoked"


def test_no_code_while_an_authenticator_is_set_up(admin, bureau):
    enrol(bureau)
    with pytest.raises(Conflict) as refused:
        second_factor_code_issue(actor=admin, user=bureau)
    assert refusal(refused) == "second_factor_exists"


def test_a_registrar_cannot_issue_codes(registrar, bureau):
    with pytest.raises(PermissionRefused):
        second_factor_code_issue(actor=registrar, user=bureau)
    assert not EnrolmentCode.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.ADMIN, Role.BUREAU_VIEWER, Role.BUREAU_APPROVER, Role.AUDITOR]
)
def test_the_system_administrator_and_bureau_roles_cannot_issue_codes(futian, bureau, role):
    with pytest.raises(PermissionRefused):
        second_factor_code_issue(actor=member(role, division=futian), user=bureau)


def test_a_security_administrator_reaches_only_the_accounts_of_the_area_and_not_their_own(
    admin, futian
):
    nanshan = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440305"))
    with pytest.raises(NotFound):
        second_factor_code_issue(actor=admin, user=nanshan)
    with pytest.raises(NotFound):
        second_factor_code_issue(actor=admin, user=admin)
    with pytest.raises(NotFound):
        second_factor_reset(actor=admin, user=admin)
    # 三员分立: another security administrator's (or an auditor's) authenticator is the nation's
    # security administrator's to manage, not a city's.
    shenzhen_admin = member(Role.SECURITY_ADMIN, division=futian.parent)
    auditor = member(Role.AUDITOR, division=futian)
    for duty in (admin, auditor):
        with pytest.raises(NotFound):
            second_factor_code_issue(actor=shenzhen_admin, user=duty)
    nation_admin = member(Role.SECURITY_ADMIN)
    assert second_factor_code_issue(actor=nation_admin, user=admin).code
    assert second_factor_code_issue(actor=nation_admin, user=auditor).code


# ---- enrolment ----------------------------------------------------------------------------------


def test_enrolment_without_a_code_is_refused_and_audited(bureau):
    for typed in ("", "0000-0000-0000-0000"):
        with pytest.raises(FieldErrors) as refused:
            second_factor_enrol(actor=bureau, enrolment_code=typed, key=KEY, token=code_for(KEY))
        assert refusal(refused) == "enrolment_code_wrong"
        assert "enrolment_code" in refused.value.errors
    assert not Authenticator.objects.filter(user=bureau).exists()
    assert [e.detail["reason"] for e in entries("account.second_factor_enrol_refused")] == [
        "enrolment_code_wrong",
        "enrolment_code_wrong",
    ]


def test_a_code_works_only_for_its_own_account(admin, bureau, futian):
    other = member(Role.BUREAU_APPROVER, division=futian)
    issued = second_factor_code_issue(actor=admin, user=other)
    with pytest.raises(FieldErrors) as refused:
        second_factor_enrol(actor=bureau, enrolment_code=issued.code, key=KEY, token=code_for(KEY))
    assert refusal(refused) == "enrolment_code_wrong"


def test_an_expired_code_is_refused(admin, bureau):
    issued = second_factor_code_issue(actor=admin, user=bureau)
    EnrolmentCode.objects.update(
        issued_at=timezone.now() - datetime.timedelta(hours=73),
        expires_at=timezone.now() - datetime.timedelta(hours=1),
    )
    with pytest.raises(FieldErrors) as refused:
        second_factor_enrol(actor=bureau, enrolment_code=issued.code, key=KEY, token=code_for(KEY))
    assert refusal(refused) == "enrolment_code_expired"
    assert not Authenticator.objects.filter(user=bureau).exists()


def test_the_validity_is_a_setting(admin, bureau, settings):
    settings.XUEJI_ENROLMENT_CODE_HOURS = 24
    issued = second_factor_code_issue(actor=admin, user=bureau)
    assert issued.expires_at - EnrolmentCode.objects.get().issued_at == datetime.timedelta(hours=24)


def test_a_used_code_is_refused(admin, bureau):
    issued = second_factor_code_issue(actor=admin, user=bureau)
    second_factor_enrol(actor=bureau, enrolment_code=issued.code, key=KEY, token=code_for(KEY))
    # Reset (the authenticator removed), then the same code again: used up.
    second_factor_reset(actor=admin, user=bureau)
    with pytest.raises(FieldErrors) as refused:
        second_factor_enrol(actor=bureau, enrolment_code=issued.code, key=KEY, token=code_for(KEY))
    assert refusal(refused) == "enrolment_code_used"


def test_a_wrong_app_code_keeps_the_enrolment_code(admin, bureau):
    issued = second_factor_code_issue(actor=admin, user=bureau)
    with pytest.raises(FieldErrors) as refused:
        second_factor_enrol(actor=bureau, enrolment_code=issued.code, key=KEY, token="000000")
    assert refusal(refused) == "token_wrong"
    typed = issued.code.lower().replace("-", " ")  # read the forgiving way
    enrolment = second_factor_enrol(
        actor=bureau, enrolment_code=typed, key=KEY, token=code_for(KEY)
    )
    assert enrolment.device.confirmed


def test_enrolment_uses_the_code_and_gives_ten_recovery_codes(admin, bureau):
    issued = second_factor_code_issue(actor=admin, user=bureau)
    enrolment = second_factor_enrol(
        actor=bureau, enrolment_code=issued.code, key=KEY, token=code_for(KEY)
    )
    assert len(enrolment.recovery_codes) == len(set(enrolment.recovery_codes)) == 10
    assert EnrolmentCode.objects.get().used_at is not None
    tokens = set(StaticToken.objects.filter(device__user=bureau).values_list("token", flat=True))
    assert len(tokens) == 10
    assert not {normalized(code) for code in enrolment.recovery_codes} & tokens
    (entry,) = entries("account.second_factor_enrol")
    assert entry.actor == bureau and entry.detail["recovery_codes"] == 10
    with pytest.raises(Conflict):
        second_factor_enrol(actor=bureau, enrolment_code=issued.code, key=KEY, token=code_for(KEY))


# ---- recovery codes -----------------------------------------------------------------------------


def test_a_recovery_code_works_once(bureau):
    codes = enrol(bureau).recovery_codes
    recovery = second_factor_recover(actor=bureau, code=codes[3])
    assert recovery.codes_left == 9
    assert isinstance(recovery.device, StaticDevice)
    StaticDevice.objects.update(throttling_failure_count=0)
    with pytest.raises(FieldErrors) as refused:
        second_factor_recover(actor=bureau, code=codes[3])
    assert refusal(refused) == "recovery_code_wrong"
    assert [e.detail["codes_left"] for e in entries("account.second_factor_recovery")] == [9]
    assert entries("account.second_factor_recovery_failed")


def test_wrong_recovery_codes_slow_the_next_tries_down(bureau):
    codes = enrol(bureau).recovery_codes
    with pytest.raises(FieldErrors):
        second_factor_recover(actor=bureau, code="ABCD-EFGH-JKMN")
    with pytest.raises(FieldErrors) as refused:
        second_factor_recover(actor=bureau, code=codes[0])
    assert refusal(refused) == "recovery_code_throttled"
    assert entries("account.second_factor_recovery_throttled")
    assert StaticToken.objects.filter(device__user=bureau).count() == 10


def test_no_recovery_without_codes(bureau):
    with pytest.raises(Conflict) as refused:
        second_factor_recover(actor=bureau, code="ABCD-EFGH-JKMN")
    assert refusal(refused) == "recovery_codes_missing"


# ---- reset --------------------------------------------------------------------------------------


def test_a_reset_removes_the_authenticator_and_the_codes_and_is_audited(admin, bureau):
    enrol(bureau)
    reset = second_factor_reset(actor=admin, user=bureau)
    assert (reset.authenticators, reset.recovery_codes) == (1, 10)
    assert not Authenticator.objects.filter(user=bureau).exists()
    assert not StaticDevice.objects.filter(user=bureau).exists()
    (entry,) = entries("account.second_factor_reset")
    assert entry.actor == admin
    assert entry.detail == {
        "user": "futian-viewer",
        "authenticators": 1,
        "recovery_codes": 10,
        "revoked_codes": 0,
    }
    # Only a new code sets up another.
    with pytest.raises(FieldErrors):
        second_factor_enrol(actor=bureau, enrolment_code="", key=KEY, token=code_for(KEY))
    issued = second_factor_code_issue(actor=admin, user=bureau)
    assert second_factor_enrol(
        actor=bureau, enrolment_code=issued.code, key=KEY, token=code_for(KEY)
    ).device


def test_a_reset_revokes_a_pending_code(admin, bureau):
    issued = second_factor_code_issue(actor=admin, user=bureau)
    assert second_factor_reset(actor=admin, user=bureau).revoked_codes == 1
    with pytest.raises(FieldErrors) as refused:
        second_factor_enrol(actor=bureau, enrolment_code=issued.code, key=KEY, token=code_for(KEY))
    assert refusal(refused) == "enrolment_code_revoked"


def test_nothing_to_reset_is_said(admin, bureau):
    with pytest.raises(Conflict) as refused:
        second_factor_reset(actor=admin, user=bureau)
    assert refusal(refused) == "second_factor_missing"
    assert not entries("account.second_factor_reset")


def test_a_registrar_cannot_reset(registrar, bureau):
    enrol(bureau)
    with pytest.raises(PermissionRefused):
        second_factor_reset(actor=registrar, user=bureau)
    assert Authenticator.objects.filter(user=bureau).exists()
