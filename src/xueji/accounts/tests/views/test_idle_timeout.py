"""Sessions left idle longer than XUEJI_SESSION_IDLE_MINUTES are signed out, to the second,
without a write of the session per request (the time of the last response travels in a signed
cookie; xueji.accounts.middleware)."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xueji.accounts import middleware
from xueji.accounts.middleware import LAST_ACTIVITY_KEY, activity_cookie_name
from xueji.accounts.tests.conftest import PASSWORD, english_client, log_in
from xueji.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    moved = Clock()
    monkeypatch.setattr(middleware, "clock", moved)
    return moved


@pytest.fixture
def client(registrar, clock):
    client = english_client()
    assert log_in(client, "registrar-a", PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    return client


def session_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]


def test_activity_every_20_seconds_keeps_a_one_minute_session_without_writing_it(
    client, clock, settings
):
    settings.XUEJI_SESSION_IDLE_MINUTES = 1
    with CaptureQueriesContext(connection) as queries:
        for _ in range(15):  # five minutes
            clock.advance(20)
            assert client.get("/").status_code == 200
        # Just under the minute, many times: the rule is the last request, not a coarse stamp.
        for _ in range(5):
            clock.advance(59.5)
            assert client.get("/").status_code == 200
    assert session_writes(queries) == []


def test_61_seconds_idle_signs_out(client, clock, settings, registrar):
    settings.XUEJI_SESSION_IDLE_MINUTES = 1
    for _ in range(4):
        clock.advance(20)
        assert client.get("/").status_code == 200
    clock.advance(61)
    response = client.get("/students/search/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fstudents%2Fsearch%2F"
    assert "_auth_user_id" not in client.session
    assert client.cookies[activity_cookie_name()].value == ""  # removed
    page = client.get(response["Location"])
    assert "signed out after 1 minutes without activity" in page.content.decode()
    logout = AuditEntry.objects.get(action="account.logout", actor=registrar)
    assert logout.detail == {"reason": "idle"}


def test_exactly_the_limit_is_not_yet_idle(client, clock, settings):
    settings.XUEJI_SESSION_IDLE_MINUTES = 1
    clock.advance(60)
    assert client.get("/").status_code == 200
    clock.advance(60.01)
    assert client.get("/").status_code == 302


def test_the_limit_is_a_setting(client, clock, settings):
    settings.XUEJI_SESSION_IDLE_MINUTES = 30
    clock.advance(29 * 60)
    assert client.get("/").status_code == 200
    settings.XUEJI_SESSION_IDLE_MINUTES = 5
    clock.advance(5 * 60 + 1)
    assert client.get("/").status_code == 302


def test_an_idle_api_session_gets_401(client, clock, settings):
    settings.XUEJI_SESSION_IDLE_MINUTES = 30
    clock.advance(31 * 60)
    response = client.get("/api/students")
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


def test_without_the_cookie_the_time_kept_in_the_session_rules(client, clock, settings):
    """Dropping the activity cookie cannot keep an idle session alive: the session's own stamp
    (written at login) decides, which is never later than the cookie's."""
    settings.XUEJI_SESSION_IDLE_MINUTES = 1
    for _ in range(4):
        clock.advance(20)
        assert client.get("/").status_code == 200
    del client.cookies[activity_cookie_name()]
    assert client.get("/").status_code == 302  # 80 s after login by the session's stamp


def test_a_client_without_the_cookie_is_timed_exactly_by_the_session(client, clock, settings):
    settings.XUEJI_SESSION_IDLE_MINUTES = 1
    for _ in range(6):
        clock.advance(40)
        del client.cookies[activity_cookie_name()]
        assert client.get("/").status_code == 200
        assert client.session[LAST_ACTIVITY_KEY] == clock.now


def test_a_forged_or_another_sessions_cookie_counts_for_nothing(client, clock, settings, registrar):
    settings.XUEJI_SESSION_IDLE_MINUTES = 1
    other = english_client()
    assert log_in(other, "registrar-a", PASSWORD).status_code == 302
    clock.advance(50)
    assert other.get("/").status_code == 200  # the other session's fresh cookie
    clock.advance(50)
    # 100 s after this session's last response: neither a copy of the other session's cookie
    # nor a hand-made one keeps it.
    client.cookies[activity_cookie_name()] = other.cookies[activity_cookie_name()].value
    assert client.get("/").status_code == 302
    assert log_in(client, "registrar-a", PASSWORD).status_code == 302
    clock.advance(100)
    client.cookies[activity_cookie_name()] = f"0:{clock.now}:forged"
    assert client.get("/").status_code == 302
