"""django-axes: repeated failed logins lock an account from one address for a while, and an
address trying many accounts at a higher limit (xueji.accounts.lockout)."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.db.models import F

from xueji.access.models import Role
from xueji.accounts.tests.conftest import PASSWORD, english_client, log_in
from xueji.audit.models import AuditEntry
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


def fail(client, username, times):
    for _ in range(times):
        response = log_in(client, username, "wrong-password")
        assert response.status_code == 200
        assert "password is wrong" in response.content.decode()


def test_five_failures_lock_the_account_from_that_address_even_for_the_right_password(
    settings, registrar
):
    client = english_client()
    fail(client, "registrar-a", settings.AXES_FAILURE_LIMIT - 1)
    locked = log_in(client, "registrar-a", "wrong-password")
    assert locked.status_code == 429
    assert "Logging in is locked" in locked.content.decode()
    assert "to this account from this network address" in locked.content.decode()
    assert "Try again in 15 minutes" in locked.content.decode()
    again = log_in(english_client(), "registrar-a", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in again.client.session
    # Five wrong passwords, then the right one refused while locked: six failed logins.
    assert AuditEntry.objects.filter(action="account.login_failed").count() == 6
    assert AuditEntry.objects.filter(action="account.locked_out").first().detail == {
        "username": "registrar-a",
        "limit": "account",
    }


def test_another_user_at_the_same_address_still_logs_in(settings, registrar, futian):
    """A school's staff share one address: one teacher's wrong passwords lock only them."""
    colleague = member(Role.REGISTRAR, school=registrar.membership.school, username="colleague")
    fail(english_client(), "registrar-a", settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(english_client(), "registrar-a", "wrong-password").status_code == 429
    response = log_in(english_client(), "colleague", PASSWORD)
    assert response.status_code == 302
    assert response.client.session["_auth_user_id"] == str(colleague.pk)
    # The locked user from another address (at home, say) is not locked either.
    elsewhere = log_in(english_client(REMOTE_ADDR="192.0.2.50"), "registrar-a", PASSWORD)
    assert elsewhere.status_code == 302


def test_the_address_has_its_own_higher_limit_over_all_accounts(settings, registrar):
    settings.XUEJI_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 12
    client = english_client(REMOTE_ADDR="198.51.100.7")
    # Below each account's limit, but 11 failures from the address in all.
    for number in range(11):
        assert log_in(client, f"guess-{number // 2}", "123456").status_code == 200
    assert log_in(client, "registrar-a", PASSWORD).status_code == 302
    client.post("/logout/")
    # A successful login clears only its own account's count: the 12th guess locks the address.
    locked = log_in(client, "guess-last", "123456")
    assert locked.status_code == 429
    assert "12 failed attempts from this network address" in locked.content.decode()
    entry = AuditEntry.objects.filter(action="account.locked_out").first()
    assert entry.detail == {"username": "guess-last", "limit": "address"}
    assert log_in(client, "registrar-a", PASSWORD).status_code == 429
    other = log_in(english_client(REMOTE_ADDR="198.51.100.8"), "registrar-a", PASSWORD)
    assert other.status_code == 302
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=16))
    assert log_in(client, "registrar-a", PASSWORD).status_code == 302


def test_the_address_limit_is_fifty_by_default(settings):
    assert settings.XUEJI_LOGIN_FAILURE_LIMIT_PER_ADDRESS == 50
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_the_lock_ends_after_the_cool_off(settings, registrar):
    client = english_client()
    fail(client, "registrar-a", settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "registrar-a", "wrong-password").status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=16))
    response = log_in(client, "registrar-a", PASSWORD)
    assert response.status_code == 302
    assert response.client.session["_auth_user_id"] == str(registrar.pk)


def test_a_successful_login_resets_the_count(settings, registrar):
    client = english_client()
    fail(client, "registrar-a", settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "registrar-a", PASSWORD).status_code == 302
    client.post("/logout/")
    fail(client, "registrar-a", settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "registrar-a", PASSWORD).status_code == 302
