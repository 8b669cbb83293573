"""Accounts unused for 180 days are sealed until a bureau's account manager reopens them."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.access.services import api_token_create
from xueji.accounts.models import AccountSeal
from xueji.accounts.services import account_reopen, accounts_seal_stale
from xueji.accounts.tests.conftest import PASSWORD, english_client, log_in
from xueji.audit.models import AuditEntry
from xueji.core.errors import NotFound
from xueji.geo.models import Division
from xueji.testing.api import ApiClient
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days):
    return NOW - datetime.timedelta(days=days)


def aged(user, *, joined, last_login=None):
    user.date_joined = days_ago(joined)
    user.last_login = None if last_login is None else days_ago(last_login)
    user.save(update_fields=["date_joined", "last_login"])
    return user


@pytest.fixture
def nanshan():
    return Division.objects.get(code="440305")


def test_accounts_unused_for_180_days_are_sealed(registrar, bureau, futian):
    aged(registrar, joined=400, last_login=181)
    aged(bureau, joined=400, last_login=179)
    never = aged(member(Role.PRINCIPAL, school=SchoolFactory(county=futian)), joined=200)
    fresh = aged(member(Role.PRINCIPAL, school=SchoolFactory(county=futian)), joined=10)
    sealed = accounts_seal_stale(actor=None, now=NOW)
    assert sorted(account.username for account in sealed) == sorted(
        [registrar.username, never.username]
    )
    for user in (registrar, bureau, never, fresh):
        user.refresh_from_db()
    assert not registrar.is_active and not never.is_active
    assert bureau.is_active and fresh.is_active
    seal = AccountSeal.objects.get(user=registrar)
    assert seal.last_used_at == days_ago(181)
    assert AuditEntry.objects.filter(action="account.seal").count() == 2
    assert accounts_seal_stale(actor=None, now=NOW) == []


def test_recent_api_token_use_counts_as_use(registrar):
    aged(registrar, joined=400, last_login=300)
    token, _ = api_token_create(actor=None, user=registrar, name="system")
    token.last_used_at = days_ago(3)
    token.save()
    assert accounts_seal_stale(actor=None, now=NOW) == []


def test_the_command_seals_and_reports(registrar):
    aged(registrar, joined=400, last_login=365)
    out = io.StringIO()
    call_command("seal_stale_accounts", stdout=out)
    assert f"sealed {registrar.username}" in out.getvalue()
    assert "1 accounts unused for 180 days sealed." in out.getvalue()


def test_a_sealed_account_is_told_why_it_cannot_log_in(registrar):
    aged(registrar, joined=400, last_login=200)
    accounts_seal_stale(actor=None, now=NOW)
    right = log_in(english_client(), registrar.username, PASSWORD)
    assert right.status_code == 200
    content = right.content.decode()
    assert "This account was sealed on" in content
    assert "not been used for 180 days" in content
    assert "Ask your education bureau to reopen it" in content
    wrong = log_in(english_client(), registrar.username, "not-the-password")
    assert "This account was sealed" not in wrong.content.decode()
    assert "password is wrong" in wrong.content.decode()


def test_a_sealed_account_loses_its_session_and_its_api_tokens(registrar):
    _, raw = api_token_create(actor=None, user=registrar, name="system")
    client = english_client()
    client.force_login(registrar)
    aged(registrar, joined=400, last_login=200)
    accounts_seal_stale(actor=None, now=NOW)
    assert client.get("/").status_code == 302
    assert ApiClient(raw).get("/api/students").status_code == 401


def test_an_account_manager_of_the_area_reopens_it(registrar, futian):
    manager = member(Role.SECURITY_ADMIN, division=futian)
    aged(registrar, joined=400, last_login=200)
    accounts_seal_stale(actor=None, now=NOW)
    seal = account_reopen(actor=manager, user_id=registrar.pk)
    registrar.refresh_from_db()
    assert registrar.is_active
    assert seal.reopened_by == manager
    entry = AuditEntry.objects.get(action="account.reopen")
    assert entry.actor == manager
    assert (entry.before, entry.after) == ({"is_active": False}, {"is_active": True})
    assert log_in(english_client(), registrar.username, PASSWORD).status_code == 302
    # Reopening counts as use: the next run does not seal it again.
    assert accounts_seal_stale(actor=None) == []


def test_only_account_managers_of_the_area_reopen(registrar, futian, nanshan):
    aged(registrar, joined=400, last_login=200)
    accounts_seal_stale(actor=None, now=NOW)
    with pytest.raises(NotFound):
        account_reopen(actor=member(Role.SECURITY_ADMIN, division=nanshan), user_id=registrar.pk)
    with pytest.raises(PermissionRefused):
        account_reopen(actor=member(Role.BUREAU_VIEWER, division=futian), user_id=registrar.pk)
    # 三员分立: the system administrator manages no account.
    with pytest.raises(PermissionRefused):
        account_reopen(actor=member(Role.ADMIN, division=futian), user_id=registrar.pk)
    city = member(Role.SECURITY_ADMIN, division=futian.parent)
    assert account_reopen(actor=city, user_id=registrar.pk).reopened_by == city


def test_the_operator_reopens_from_the_command_line(registrar):
    aged(registrar, joined=400, last_login=200)
    accounts_seal_stale(actor=None, now=NOW)
    out = io.StringIO()
    call_command("reopen_account", registrar.username, stdout=out)
    registrar.refresh_from_db()
    assert registrar.is_active
    assert "is reopened" in out.getvalue()
