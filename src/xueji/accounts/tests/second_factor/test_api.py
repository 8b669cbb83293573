"""The API of an account's second factor (issue 19), as the administrator's page: the security
administrator reads an account's state, issues an enrolment code (shown once, in that answer)
and resets a lost authenticator; never their own account nor one outside the area; bureau roles
are refused; every step is audited."""

import pytest

from xueji.access.models import Role
from xueji.accounts.second_factor.codes import enrolment_digest
from xueji.accounts.second_factor.models import EnrolmentCode
from xueji.accounts.tests.second_factor.enrolment import enrol
from xueji.audit.models import AuditEntry
from xueji.geo.models import Division
from xueji.testing.api import api_as
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(futian):
    return member(Role.SECURITY_ADMIN, division=futian, username="futian-admin")


def url(user, path=""):
    return f"/api/accounts/{user.pk}/second-factor{path}"


def test_a_code_is_issued_once_and_a_lost_authenticator_reset(admin, bureau):
    api = api_as(admin)
    state = api.get(url(bureau))
    assert state.status_code == 200, state.content
    assert state.json()["login_name"] == "futian-viewer"
    assert state.json()["enrolled_at"] is None and state.json()["code_pending_until"] is None

    issued = api.post(url(bureau, "/code"), {})
    assert issued.status_code == 201, issued.content
    code = issued.json()["code"]
    kept = EnrolmentCode.objects.get(user=bureau)
    assert kept.digest == enrolment_digest(code) and code not in kept.digest
    assert api.get(url(bureau)).json()["code_pending_until"] is not None
    assert AuditEntry.objects.filter(action="account.second_factor_code_issue").count() == 1

    # Set up by its user: no code while it stands; reset, then nothing more to reset.
    EnrolmentCode.objects.filter(user=bureau).delete()
    enrol(bureau)
    assert api.get(url(bureau)).json()["enrolled_at"] is not None
    refused = api.post(url(bureau, "/code"), {})
    assert refused.status_code == 409 and refused.json()["code"] == "second_factor_exists"
    reset = api.post(url(bureau, "/reset"), {})
    assert reset.status_code == 200, reset.content
    assert reset.json()["authenticators"] >= 1 and reset.json()["recovery_codes"] == 10
    assert api.get(url(bureau)).json()["enrolled_at"] is None
    again = api.post(url(bureau, "/reset"), {})
    assert again.status_code == 409 and again.json()["code"] == "second_factor_missing"
    assert AuditEntry.objects.filter(action="account.second_factor_reset").count() == 1


def test_not_one_s_own_nor_outside_the_area_nor_by_a_bureau(admin, bureau, futian):
    api = api_as(admin)
    for path, method in (("", "get"), ("/code", "post"), ("/reset", "post")):
        answer = api.get(url(admin, path)) if method == "get" else api.post(url(admin, path), {})
        assert answer.status_code == 404, path
    nanshan = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440305"))
    assert api.post(url(nanshan, "/code"), {}).status_code == 404
    # A bureau approver manages accounts below it, but their second factor is the security
    # administrator's duty (三员分立).
    approver = api_as(member(Role.BUREAU_APPROVER, division=futian.parent))
    assert approver.post(url(bureau, "/code"), {}).status_code == 403
    assert approver.post(url(bureau, "/reset"), {}).status_code == 403
    assert not EnrolmentCode.objects.exists()
