import pytest
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext, override

from xueji.access.auth import LAST_USED_RESOLUTION
from xueji.access.models import ApiToken, Role
from xueji.access.services import api_token_create, api_token_revoke
from xueji.testing.api import ApiClient, api_as
from xueji.testing.factories import SchoolFactory, UserFactory, member

pytestmark = pytest.mark.django_db

URL = "/api/schools"


@pytest.fixture
def registrar():
    return member(Role.REGISTRAR, school=SchoolFactory(name="福田第一小学"))


def test_a_valid_token_acts_as_its_owner_and_records_its_use(registrar):
    token, raw = api_token_create(actor=None, user=registrar, name="x")
    before = timezone.now()
    response = ApiClient(raw).get(URL)
    assert response.status_code == 200
    assert [s["name"] for s in response.json()] == ["福田第一小学"]
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at >= before


def test_last_used_is_not_rewritten_on_every_request(registrar):
    token, raw = api_token_create(actor=None, user=registrar, name="x")
    recent = timezone.now() - LAST_USED_RESOLUTION / 2
    long_ago = timezone.now() - LAST_USED_RESOLUTION * 2
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    ApiClient(raw).get(URL)
    token.refresh_from_db()
    assert token.last_used_at == recent
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    ApiClient(raw).get(URL)
    token.refresh_from_db()
    assert token.last_used_at > recent


def test_no_credentials_is_401_with_a_code():
    response = ApiClient(None).get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401(registrar):
    response = ApiClient("xj_not-a-token").get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_a_revoked_token_is_401(registrar):
    token, raw = api_token_create(actor=None, user=registrar, name="x")
    assert ApiClient(raw).get(URL).status_code == 200
    api_token_revoke(actor=None, token_id=token.pk)
    response = ApiClient(raw).get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_a_token_of_a_disabled_account_is_401(registrar):
    _, raw = api_token_create(actor=None, user=registrar, name="x")
    registrar.is_active = False
    registrar.save()
    response = ApiClient(raw).get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "account_inactive"


def test_a_bad_token_is_refused_even_with_a_session(registrar):
    client = Client()
    client.force_login(registrar)
    assert client.get(URL).status_code == 200
    response = client.get(URL, headers={"Authorization": "Bearer xj_wrong"})
    assert response.status_code == 401


def test_the_browser_session_works_and_posts_need_the_csrf_token(registrar):
    client = Client(enforce_csrf_checks=True)
    client.force_login(registrar)
    assert client.get(URL).status_code == 200
    body = {"number": "G440304202003050011"}
    refused = client.post("/api/students/lookup", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    secret = "a" * 32  # a CSRF secret as the cookie carries it, and the same in the header
    client.cookies["csrftoken"] = secret
    allowed = client.post(
        "/api/students/lookup",
        body,
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert allowed.status_code == 404  # got past authentication; no such student
    assert allowed.json()["code"] == "student_not_found"


def test_a_token_client_needs_no_csrf_token(registrar):
    response = api_as(registrar).post("/api/students/lookup", {"number": "G440304202003050011"})
    assert response.status_code == 404
    assert response.json()["code"] == "student_not_found"


def test_a_user_without_membership_is_authenticated_but_sees_nothing():
    SchoolFactory()
    response = api_as(UserFactory()).get(URL)
    assert response.status_code == 200
    assert response.json() == []


def test_messages_follow_the_request_language_chinese_by_default(registrar):
    english = ApiClient("xj_wrong", language="en").get(URL)
    assert english["Content-Language"] == "en"
    assert english.json()["message"] == "The API token is not valid."
    default = ApiClient("xj_wrong").get(URL)
    assert default["Content-Language"] == "zh-hans"
    with override("zh-hans"):
        assert default.json()["message"] == gettext("The API token is not valid.")
    assert default.json()["message"] != english.json()["message"]
