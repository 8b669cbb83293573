"""Sessions left idle longer than XUEJI_SESSION_IDLE_MINUTES are signed out."""

import time

import pytest

from xueji.accounts.middleware import LAST_ACTIVITY_KEY
from xueji.accounts.tests.conftest import english_client
from xueji.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def idle_for(client, seconds):
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - seconds
    session.save()


@pytest.fixture
def client(registrar):
    client = english_client()
    client.force_login(registrar)
    assert client.get("/").status_code == 200
    return client


def test_activity_within_the_limit_keeps_the_session(client, settings):
    settings.XUEJI_SESSION_IDLE_MINUTES = 30
    idle_for(client, 29 * 60)
    assert client.get("/").status_code == 200
    assert time.time() - client.session[LAST_ACTIVITY_KEY] < 5


def test_an_idle_session_is_signed_out_and_sent_to_log_in(client, settings, registrar):
    settings.XUEJI_SESSION_IDLE_MINUTES = 30
    idle_for(client, 31 * 60)
    response = client.get("/students/search/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fstudents%2Fsearch%2F"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "signed out after 30 minutes without activity" in page.content.decode()
    logout = AuditEntry.objects.get(action="account.logout", actor=registrar)
    assert logout.detail == {"reason": "idle"}


def test_the_limit_is_a_setting(client, settings):
    settings.XUEJI_SESSION_IDLE_MINUTES = 5
    idle_for(client, 6 * 60)
    assert client.get("/").status_code == 302


def test_an_idle_api_session_gets_401(client, settings):
    settings.XUEJI_SESSION_IDLE_MINUTES = 30
    idle_for(client, 31 * 60)
    response = client.get("/api/students")
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"
