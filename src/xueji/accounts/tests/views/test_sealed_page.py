"""The bureau's page of sealed accounts, with the reopen button."""

import datetime

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.accounts.models import AccountSeal
from xueji.accounts.services import accounts_seal_stale
from xueji.accounts.tests.conftest import english_client
from xueji.geo.models import Division
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed(futian):
    nanshan = Division.objects.get(code="440305")
    old = timezone.now() - datetime.timedelta(days=400)
    ours = member(Role.REGISTRAR, school=SchoolFactory(county=futian), username="sealed-futian")
    theirs = member(Role.REGISTRAR, school=SchoolFactory(county=nanshan), username="sealed-ns")
    for user in (ours, theirs):
        user.date_joined = old
        user.save()
    accounts_seal_stale(actor=None)
    return ours, theirs


def as_user(user):
    client = english_client()
    client.force_login(user)
    return client


def test_the_page_lists_the_sealed_accounts_of_the_area(futian, sealed):
    response = as_user(member(Role.SECURITY_ADMIN, division=futian)).get("/accounts/sealed/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "sealed-futian" in content
    assert "sealed-ns" not in content
    assert "Sealed accounts" in content


def test_reopening_from_the_page(futian, sealed):
    ours, _ = sealed
    client = as_user(member(Role.SECURITY_ADMIN, division=futian))
    response = client.post("/accounts/sealed/", {"user": ours.pk}, follow=True)
    assert "sealed-futian is reopened and can log in again." in response.content.decode()
    ours.refresh_from_db()
    assert ours.is_active
    assert not AccountSeal.objects.filter(user=ours, reopened_at__isnull=True).exists()


def test_an_account_of_another_area_cannot_be_reopened(futian, sealed):
    _, theirs = sealed
    client = as_user(member(Role.SECURITY_ADMIN, division=futian))
    response = client.post("/accounts/sealed/", {"user": theirs.pk}, follow=True)
    assert "No such sealed account in your area." in response.content.decode()
    theirs.refresh_from_db()
    assert not theirs.is_active


@pytest.mark.parametrize("role", [Role.BUREAU_VIEWER, Role.AUDITOR, Role.ADMIN])
def test_other_roles_are_refused(futian, sealed, role):
    client = as_user(member(role, division=futian))
    assert client.get("/accounts/sealed/").status_code == 403
    assert client.post("/accounts/sealed/", {"user": sealed[0].pk}).status_code == 403
    sealed[0].refresh_from_db()
    assert not sealed[0].is_active
