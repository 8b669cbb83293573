"""TOTP second factor: required of bureau, auditor and admin accounts, set up once (with an
administrator's enrolment code), then asked after every password login; nothing of the registry
is reachable before it."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import TOTP

from xueji.access.models import Role
from xueji.accounts.second_factor.models import Authenticator
from xueji.accounts.second_factor.services import second_factor_code_issue
from xueji.accounts.second_factor.views import SETUP_KEY_SESSION
from xueji.accounts.tests.conftest import english_client
from xueji.accounts.tests.second_factor.enrolment import KEY, enrol
from xueji.audit.models import AuditEntry
from xueji.testing.api import api_as
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db

SETUP = "/account/second-factor/setup/"
VERIFY = "/account/second-factor/"


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.XUEJI_TWO_FACTOR_REQUIRED = True


def code_for(key: str, offset_steps: int = 0) -> str:
    totp = TOTP(bytes.fromhex(key))
    totp.time = totp.time + offset_steps * 30
    return f"{totp.token():06d}"


def signed_in(user) -> Client:
    client = english_client()
    client.force_login(user)
    return client


@pytest.fixture
def enrolled(bureau):
    enrol(bureau)
    return KEY


@pytest.mark.parametrize(
    "role",
    [Role.BUREAU_VIEWER, Role.BUREAU_APPROVER, Role.AUDITOR, Role.ADMIN, Role.SECURITY_ADMIN],
)
def test_area_roles_are_sent_to_set_up_an_authenticator_first(futian, role):
    client = signed_in(member(role, division=futian))
    response = client.get("/students/search/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fstudents%2Fsearch%2F"


def test_superusers_need_it_too(db):
    admin = get_user_model().objects.create_superuser("root", password="x-long-passphrase")
    assert signed_in(admin).get("/").status_code == 302


def test_school_staff_do_not_need_it(registrar):
    assert signed_in(registrar).get("/").status_code == 200


def test_setting_up_shows_a_qr_code_and_needs_the_current_code(bureau):
    client = signed_in(bureau)
    page = client.get(SETUP, {"next": "/students/search/"})
    content = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in content and "<path" in content
    key = client.session[SETUP_KEY_SESSION]
    assert "Key" in content
    code = second_factor_code_issue(actor=None, user=bureau).code
    wrong = client.post(
        SETUP, {"enrolment_code": code, "token": "000000", "next": "/students/search/"}
    )
    assert "The code is wrong" in wrong.content.decode()
    assert not Authenticator.objects.filter(user=bureau).exists()
    done = client.post(
        SETUP, {"enrolment_code": code, "token": code_for(key), "next": "/students/search/"}
    )
    assert done.status_code == 200  # the recovery codes, shown once
    assert 'href="/students/search/"' in done.content.decode()
    assert Authenticator.objects.get(user=bureau).confirmed
    assert client.get("/students/search/").status_code == 200
    assert AuditEntry.objects.filter(action="account.second_factor_enrol", actor=bureau).exists()


def test_an_enrolled_user_is_asked_for_the_code_after_the_password(bureau, enrolled):
    client = signed_in(bureau)
    assert client.get("/")["Location"] == f"{VERIFY}?next=%2F"
    assert client.get(SETUP).status_code == 302  # no second authenticator without a reset
    wrong = client.post(VERIFY, {"token": "12345x", "next": "/"})
    assert "The code is wrong" in wrong.content.decode()
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.filter(action="account.second_factor_failed").exists()
    Authenticator.objects.filter(user=bureau).update(throttling_failure_count=0)
    right = client.post(VERIFY, {"token": code_for(enrolled), "next": "/"})
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.get("/").status_code == 200
    assert AuditEntry.objects.filter(action="account.second_factor", actor=bureau).exists()


def test_a_code_cannot_be_used_twice(bureau, enrolled):
    code = code_for(enrolled)
    first = signed_in(bureau)
    assert first.post(VERIFY, {"token": code})["Location"] == "/"
    second = signed_in(bureau)
    replay = second.post(VERIFY, {"token": code})
    assert replay.status_code == 200
    assert second.get("/").status_code == 302


def test_wrong_codes_slow_the_next_tries_down(bureau, enrolled):
    client = signed_in(bureau)
    client.post(VERIFY, {"token": "000000"})
    throttled = client.post(VERIFY, {"token": code_for(enrolled)})
    assert "Too many wrong codes" in throttled.content.decode()
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.filter(action="account.second_factor_throttled").exists()


def test_the_api_refuses_an_unverified_session_but_not_a_token(bureau):
    client = signed_in(bureau)
    response = client.get("/api/students")
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert (
        AuditEntry.objects.filter(action="access.denied", actor=bureau).get().detail["code"]
        == "second_factor_required"
    )
    assert api_as(bureau).get("/api/students").status_code == 200


def test_htmx_requests_are_sent_to_the_whole_page(bureau, enrolled):
    response = signed_in(bureau).get("/students/search/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{VERIFY}?next=%2Fstudents%2Fsearch%2F"


def test_logging_out_and_switching_language_stay_open(bureau):
    client = signed_in(bureau)
    assert client.post("/i18n/setlang/", {"language": "zh-hans"}).status_code == 302
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_next_address_must_be_on_this_site(bureau):
    client = signed_in(bureau)
    client.get(SETUP)
    key = client.session[SETUP_KEY_SESSION]
    code = second_factor_code_issue(actor=None, user=bureau).code
    response = client.post(
        SETUP, {"enrolment_code": code, "token": code_for(key), "next": "https://evil.example/"}
    )
    assert 'href="/"' in response.content.decode()
    assert "evil.example" not in response.content.decode()
