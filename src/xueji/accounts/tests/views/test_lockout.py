"""django-axes: repeated failed logins lock the account (and the address) for a while."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.db.models import F

from xueji.accounts.tests.conftest import PASSWORD, english_client, log_in
from xueji.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def fail(client, username, times):
    for _ in range(times):
        response = log_in(client, username, "wrong-password")
        assert response.status_code == 200
        assert "password is wrong" in response.content.decode()


def test_five_failures_lock_the_account_even_for_the_right_password(settings, registrar):
    client = english_client()
    fail(client, "registrar-a", settings.AXES_FAILURE_LIMIT - 1)
    locked = log_in(client, "registrar-a", "wrong-password")
    assert locked.status_code == 429
    assert "Logging in is locked" in locked.content.decode()
    assert "Try again in 15 minutes" in locked.content.decode()
    again = log_in(english_client(REMOTE_ADDR="192.0.2.50"), "registrar-a", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in again.client.session
    # Five wrong passwords, then the right one refused while locked: six failed logins.
    assert AuditEntry.objects.filter(action="account.login_failed").count() == 6
    assert AuditEntry.objects.filter(action="account.locked_out").exists()


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


def test_one_address_trying_many_accounts_is_locked(settings, registrar):
    client = english_client(REMOTE_ADDR="198.51.100.7")
    for number in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, f"guess-{number}", "123456").status_code == 200
    assert log_in(client, "guess-last", "123456").status_code == 429
    assert log_in(client, "registrar-a", PASSWORD).status_code == 429
    assert (
        log_in(english_client(REMOTE_ADDR="198.51.100.8"), "registrar-a", PASSWORD).status_code
        == 302
    )
