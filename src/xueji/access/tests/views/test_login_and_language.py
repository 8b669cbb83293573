"""Logging in and out, and switching the language (Chinese by default, English on request)."""

import pytest
from django.conf import settings
from django.test import Client

from xueji.access.models import Role
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db


def english_client() -> Client:
    """A user who chose English with the language switch (kept in the language cookie)."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def registrar():
    return member(Role.REGISTRAR, school=SchoolFactory(name="福田实验小学"), username="reg")


@pytest.mark.parametrize("browser_language", ["", "en-US,en;q=0.9", "fr"])
def test_login_page_is_chinese_whatever_the_browser_asks(browser_language):
    page = Client(headers={"Accept-Language": browser_language}).get("/login/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "登录" in page
    assert "Log in" not in page


def test_login_leads_home_with_name_role_and_school_in_the_header(registrar):
    client = english_client()
    response = client.post(
        "/login/", {"username": "reg", "password": "correct-horse-battery"}, follow=True
    )
    assert response.redirect_chain == [("/", 302)]
    page = response.content.decode()
    assert "School registrar" in page
    assert "福田实验小学" in page
    assert "reg" in page


def test_a_wrong_password_says_so_and_stays_on_the_login_page(registrar):
    client = english_client()
    response = client.post("/login/", {"username": "reg", "password": "wrong"})
    assert response.status_code == 200
    assert "The account name or password is wrong" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_returns_to_the_login_page(registrar):
    client = Client()
    client.force_login(registrar)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_language_switch_renders_english_and_back(registrar):
    client = Client()
    client.force_login(registrar)
    assert "首页" in client.get("/").content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1] == ("/", 302)
    assert '<html lang="en">' in page
    assert "Home" in page
    assert "首页" not in page
    assert "School registrar" in page

    page = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}, follow=True)
    assert "首页" in page.content.decode()


def test_the_language_switch_is_on_every_page_and_keeps_the_current_page(registrar):
    client = Client()
    client.force_login(registrar)
    page = client.get("/students/search/?q=zcm").content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert 'name="next" value="/students/search/?q=zcm"' in page
    assert 'value="en"' in page
