"""The second factor's pages: set-up with an administrator's enrolment code (recovery codes shown
once), logging in with a recovery code, and the administrator's page of an account (issue a code,
reset a lost authenticator, each confirmed first)."""

import re

import pytest

from xueji.access.models import Role
from xueji.accounts.second_factor.codes import enrolment_digest
from xueji.accounts.second_factor.models import Authenticator, EnrolmentCode
from xueji.accounts.second_factor.services import second_factor_code_issue
from xueji.accounts.second_factor.views import SETUP_KEY_SESSION
from xueji.accounts.tests.conftest import english_client
from xueji.accounts.tests.second_factor.enrolment import code_for, enrol
from xueji.audit.models import AuditEntry
from xueji.geo.models import Division
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db

SETUP = "/account/second-factor/setup/"
VERIFY = "/account/second-factor/"
RECOVERY = "/account/second-factor/recovery/"


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.XUEJI_TWO_FACTOR_REQUIRED = True


@pytest.fixture
def admin(futian):
    admin = member(Role.SECURITY_ADMIN, division=futian, username="futian-admin")
    enrol(admin)
    return admin


def signed_in(user, *, verified_with=None):
    client = english_client()
    client.force_login(user)
    if verified_with is not None:
        assert client.post(VERIFY, {"token": code_for(verified_with)}).status_code == 302
    return client


def manage_url(user):
    return f"/accounts/{user.pk}/second-factor/"


# ---- the user's set-up --------------------------------------------------------------------------


def test_the_set_up_refuses_whoever_has_no_enrolment_code(bureau):
    client = signed_in(bureau)
    page = client.get(SETUP)
    assert "Enrolment code from your administrator" in page.content.decode()
    key = client.session[SETUP_KEY_SESSION]
    missing = client.post(SETUP, {"token": code_for(key)})
    assert missing.status_code == 200
    assert "This field is required" in missing.content.decode()
    made_up = client.post(SETUP, {"enrolment_code": "ABCD-EFGH-JKMN-PQRS", "token": code_for(key)})
    assert "This enrolment code is wrong" in made_up.content.decode()
    assert not Authenticator.objects.filter(user=bureau).exists()
    assert client.get("/").status_code == 302
    refused = AuditEntry.objects.get(action="account.second_factor_enrol_refused", actor=bureau)
    assert refused.detail["reason"] == "enrolment_code_wrong"


def test_the_set_up_with_a_code_shows_the_recovery_codes_once(bureau):
    client = signed_in(bureau)
    client.get(SETUP, {"next": "/students/search/"})
    key = client.session[SETUP_KEY_SESSION]
    code = second_factor_code_issue(actor=None, user=bureau).code
    done = client.post(
        SETUP, {"enrolment_code": code, "token": code_for(key), "next": "/students/search/"}
    )
    content = done.content.decode()
    assert done.status_code == 200
    shown = re.findall(r"<li>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</li>", content)
    assert len(shown) == 10
    assert 'href="/students/search/"' in content
    assert done["Cache-Control"] == "no-store"
    assert client.get("/students/search/").status_code == 200  # this session is verified
    assert client.get(SETUP).status_code == 302  # shown once: no way back to them


# ---- recovery codes -----------------------------------------------------------------------------


def test_a_recovery_code_lets_in_once(bureau):
    codes = enrol(bureau).recovery_codes
    client = signed_in(bureau)
    prompt = client.get(VERIFY, {"next": "/students/search/"}).content.decode()
    assert "Use a recovery code" in prompt
    response = client.post(RECOVERY, {"recovery_code": codes[0], "next": "/students/search/"})
    assert response.status_code == 302 and response["Location"] == "/students/search/"
    page = client.get("/students/search/")
    assert page.status_code == 200
    assert "9 are left" in page.content.decode()
    again = signed_in(bureau)
    replay = again.post(RECOVERY, {"recovery_code": codes[0]})
    assert replay.status_code == 200
    assert "wrong or has been used" in replay.content.decode()
    assert again.get("/").status_code == 302


def test_the_recovery_page_says_when_there_are_no_codes(bureau):
    client = signed_in(bureau)
    page = client.get(RECOVERY).content.decode()
    assert "This account has no recovery codes" in page


# ---- the administrator's page -------------------------------------------------------------------


def test_the_administrator_issues_a_code_after_confirming_and_sees_it_once(admin, bureau):
    client = signed_in(admin, verified_with="3132333435363738393031323334353637383930")
    page = client.get(manage_url(bureau)).content.decode()
    assert "Second factor of futian-viewer" in page
    assert "Not set up" in page
    assert "?confirm=issue" in page
    confirm = client.get(manage_url(bureau), {"confirm": "issue"}).content.decode()
    assert "Yes, issue the code" in confirm
    unconfirmed = client.post(manage_url(bureau), {"step": "issue"})
    assert "Yes, issue the code" in unconfirmed.content.decode()
    assert not EnrolmentCode.objects.filter(user=bureau).exists()
    issued = client.post(manage_url(bureau), {"step": "issue", "confirmed": "on"})
    content = issued.content.decode()
    code = re.search(r"<strong>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})</strong>", content).group(1)
    assert EnrolmentCode.objects.get(user=bureau).digest == enrolment_digest(code)
    assert issued["Cache-Control"] == "no-store"
    later = client.get(manage_url(bureau)).content.decode()
    assert code not in later
    assert "Pending enrolment code" in later and "futian-admin" in later


def test_the_administrator_resets_a_lost_authenticator(admin, bureau):
    enrol(bureau, key="3132333435363738393031323334353637383931")
    user_session = signed_in(bureau, verified_with="3132333435363738393031323334353637383931")
    assert user_session.get("/").status_code == 200
    client = signed_in(admin, verified_with="3132333435363738393031323334353637383930")
    assert "Recovery codes left" in client.get(manage_url(bureau)).content.decode()
    assert "Yes, reset" in client.get(manage_url(bureau), {"confirm": "reset"}).content.decode()
    assert client.post(manage_url(bureau), {"step": "reset"}).status_code == 200  # to confirm
    assert Authenticator.objects.filter(user=bureau).exists()
    done = client.post(manage_url(bureau), {"step": "reset", "confirmed": "on"}, follow=True)
    assert "is reset (10 recovery codes removed)" in done.content.decode()
    assert not Authenticator.objects.filter(user=bureau).exists()
    assert AuditEntry.objects.get(action="account.second_factor_reset").actor == admin
    # The session the lost phone verified must set up a new authenticator, with a new code.
    assert user_session.get("/")["Location"] == f"{SETUP}?next=%2F"


def test_a_registrar_may_not_open_the_page(registrar, bureau):
    assert signed_in(registrar).get(manage_url(bureau)).status_code == 403


def test_an_account_outside_the_area_is_not_found(admin):
    nanshan = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440305"))
    client = signed_in(admin, verified_with="3132333435363738393031323334353637383930")
    assert client.get(manage_url(nanshan)).status_code == 404
    assert client.post(manage_url(nanshan), {"step": "issue", "confirmed": "on"}).status_code == 404
    assert client.get(manage_url(admin)).status_code == 404  # nor one's own
