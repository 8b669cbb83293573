"""The account administration's pages: the security administrator lands on the list, which
pages and filters; a new account's password is shown once; every irreversible action asks for
confirmation; a password somebody else chose is changed before anything else opens."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model

from xueji.access.models import Role
from xueji.accounts.administration.models import AccountProfile
from xueji.accounts.administration.services import account_seal
from xueji.accounts.models import AccountSeal
from xueji.accounts.tests.administration.test_bulk import workbook
from xueji.testing.factories import member
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def english(user):
    return client_as(user, language="en")


def test_the_security_administrator_lands_on_the_account_list(area, security_admin):
    response = english(security_admin).get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/"
    page = response.content.decode()
    assert "<h1>Accounts</h1>" in page and "New account" in page


def test_the_list_filters_by_role_scope_state_and_name_and_pages(area, security_admin):
    for number in range(55):
        member(Role.CLASS_TEACHER, school=area.school, username=f"teacher{number:02d}")
    member(Role.REGISTRAR, school=area.nanshan_school, username="ns_registrar")
    sealed = member(Role.REGISTRAR, school=area.school, username="sealed_one")
    account_seal(actor=security_admin, user_id=sealed.pk)
    client = english(security_admin)
    first = client.get("/accounts/").content.decode()
    assert "57 accounts" in first and "Page 1 of 2" in first
    assert f"/accounts/{security_admin.pk}/" not in first  # never the own account
    page = client.get("/accounts/", {"role": "registrar"}).content.decode()
    assert "ns_registrar" in page and "sealed_one" in page and "teacher01" not in page
    page = client.get("/accounts/", {"place": "440305"}).content.decode()
    assert "ns_registrar" in page and "teacher01" not in page
    page = client.get("/accounts/", {"state": "sealed"}).content.decode()
    assert "sealed_one" in page and "ns_registrar" not in page
    page = client.get("/accounts/", {"q": "ns_reg"}).content.decode()
    assert "1 account" in page and "ns_registrar" in page
    assert client.get("/accounts/", {"place": "12"}).status_code == 200  # refused, shown


def test_a_county_approver_sees_only_the_accounts_it_manages(area, county_approver):
    member(Role.REGISTRAR, school=area.school, username="ours")
    member(Role.REGISTRAR, school=area.nanshan_school, username="theirs")
    member(Role.AUDITOR, division=area.futian, username="futian_auditor")
    page = english(county_approver).get("/accounts/").content.decode()
    assert "ours" in page and "theirs" not in page and "futian_auditor" not in page


def test_creating_an_account_shows_its_password_once(area, county_approver):
    client = english(county_approver)
    form = client.get("/accounts/new/").content.decode()
    assert 'value="registrar"' in form and 'value="admin"' not in form
    response = client.post(
        "/accounts/new/",
        {
            "login_name": "wangfang",
            "name": "王芳",
            "phone": "13800138000",
            "role": "registrar",
            "school_code": area.school.code,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Account wangfang created" in page
    password = re.search(r'<strong id="password">([^<]+)</strong>', page).group(1)
    assert get_user_model().objects.get(username="wangfang").check_password(password)
    assert response["Cache-Control"] == "no-store"
    # The account's page never shows it again.
    user = get_user_model().objects.get(username="wangfang")
    assert password not in client.get(f"/accounts/{user.pk}/").content.decode()


def test_a_refused_role_is_shown_on_the_form(area, county_approver):
    response = english(county_approver).post(
        "/accounts/new/",
        {"login_name": "boss", "name": "x", "role": "admin", "division_code": "440304"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()  # not even offered
    assert not get_user_model().objects.filter(username="boss").exists()


@pytest.mark.parametrize("action", ["seal", "remove", "password"])
def test_every_irreversible_action_asks_for_confirmation_first(area, county_approver, action):
    registrar = member(Role.REGISTRAR, school=area.school, username="target")
    client = english(county_approver)
    page = client.get(f"/accounts/{registrar.pk}/{action}/").content.decode()
    assert "Cancel" in page and 'method="post"' in page
    registrar.refresh_from_db()
    assert registrar.is_active and registrar.check_password(PASSWORD)


def test_removing_needs_a_reason_and_the_ticked_confirmation(area, county_approver):
    registrar = member(Role.REGISTRAR, school=area.school, username="leaver")
    client = english(county_approver)
    page = client.post(f"/accounts/{registrar.pk}/remove/", {"reason": "退休"}).content.decode()
    assert "This field is required" in page
    assert not AccountSeal.objects.filter(user=registrar).exists()
    response = client.post(
        f"/accounts/{registrar.pk}/remove/", {"reason": "退休", "confirm": "on"}, follow=True
    )
    assert "is removed for ever" in response.content.decode()
    assert AccountSeal.objects.get(user=registrar).reason == "removed"
    detail = client.get(f"/accounts/{registrar.pk}/").content.decode()
    assert "Removed" in detail and "Reset the password" not in detail


def test_sealing_and_reopening_from_the_pages(area, county_approver):
    registrar = member(Role.REGISTRAR, school=area.school)
    client = english(county_approver)
    client.post(f"/accounts/{registrar.pk}/seal/", {"note": "长假"})
    registrar.refresh_from_db()
    assert not registrar.is_active
    response = client.post(f"/accounts/{registrar.pk}/reopen/", follow=True)
    assert "is reopened" in response.content.decode()
    registrar.refresh_from_db()
    assert registrar.is_active


def test_a_reset_password_must_be_changed_before_anything_else(area, county_approver):
    registrar = member(Role.REGISTRAR, school=area.school, username="forgot")
    page = english(county_approver).post(f"/accounts/{registrar.pk}/password/").content.decode()
    password = re.search(r'<strong id="password">([^<]+)</strong>', page).group(1)

    registrar.refresh_from_db()
    client = english(registrar)  # signed in again (the reset ended the old sessions)
    response = client.get("/students/search/")
    assert response.status_code == 302
    assert response["Location"] == "/account/password/?next=%2Fstudents%2Fsearch%2F"
    api = client.get("/api/students")
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    assert client.get("/account/password/").status_code == 200
    refused = client.post(
        "/account/password/",
        {"old_password": password, "new_password1": password, "new_password2": password},
    )
    assert "other than the current one" in refused.content.decode()
    wrong = client.post(
        "/account/password/",
        {"old_password": "nope", "new_password1": "a-Long-passw0rd", "new_password2": "x"},
    )
    assert "two new passwords differ" in wrong.content.decode()
    wrong = client.post(
        "/account/password/",
        {
            "old_password": "nope",
            "new_password1": "a-Long-passw0rd",
            "new_password2": "a-Long-passw0rd",
        },
    )
    assert "current password is wrong" in wrong.content.decode()
    response = client.post(
        "/account/password/?next=/students/search/",
        {
            "old_password": password,
            "new_password1": "a-Long-passw0rd",
            "new_password2": "a-Long-passw0rd",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/students/search/"
    assert client.get("/students/search/").status_code == 200  # the same session goes on
    assert not AccountProfile.objects.get(user=registrar).must_change_password


def test_bulk_creation_checks_then_asks_then_shows_the_passwords_once(area, county_approver):
    client = english(county_approver)
    content = workbook([[area.school.code, "王芳", "wangfang", "学籍管理员", ""]])
    upload = io.BytesIO(content)
    upload.name = "accounts.xlsx"
    page = client.post("/accounts/bulk/", {"file": upload}).content.decode()
    assert "1 account to create" in page and "Yes, create the accounts" in page
    assert not get_user_model().objects.filter(username="wangfang").exists()
    sealed = re.search(r'name="sheet" value="([^"]+)"', page).group(1)
    done = client.post("/accounts/bulk/create/", {"sheet": sealed}).content.decode()
    assert "1 account created" in done and 'download="初始密码.xlsx"' in done
    assert "data:application/vnd.openxmlformats" in done
    assert get_user_model().objects.filter(username="wangfang").exists()
    # The same confirmation again creates nothing more; another user's cannot be used.
    again = client.post("/accounts/bulk/create/", {"sheet": sealed}).content.decode()
    assert "taken" in again
    other = english(area.manager(Role.BUREAU_APPROVER, "county"))
    response = other.post("/accounts/bulk/create/", {"sheet": sealed}, follow=True)
    assert "expired" in response.content.decode()


def test_a_sheet_with_errors_lists_them_by_row(area, county_approver):
    upload = io.BytesIO(workbook([["1", "王芳", "w", "校长", ""]]))
    upload.name = "accounts.xlsx"
    page = english(county_approver).post("/accounts/bulk/", {"file": upload}).content.decode()
    assert "2 problems found; nothing was created." in page
    assert page.count("<td>2</td>") == 2


def test_the_account_page_links_the_second_factor_page_for_whoever_manages_it(area, security_admin):
    from django.urls import NoReverseMatch, reverse

    registrar = member(Role.REGISTRAR, school=area.school)
    page = english(security_admin).get(f"/accounts/{registrar.pk}/").content.decode()
    try:
        url = reverse("accounts:second_factor_manage", args=[registrar.pk])
    except NoReverseMatch:
        pytest.skip("the second factor's page is not there yet")
    assert (url in page) is bool(
        __import__("xueji.access.policy", fromlist=["allowed"]).allowed(
            Role.SECURITY_ADMIN, "account.second_factor_manage", "nation"
        )
    )
