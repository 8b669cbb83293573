"""The content security policy and the other security headers; no inline script anywhere."""

import re
from pathlib import Path

import pytest
from django.test import Client

import xueji
from xueji.accounts.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(Path(xueji.__file__).parent.glob("*/templates/**/*.html"))
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>"  # a script without src
    r"|<style\b"  # a style element
    r"|\sstyle\s*="  # a style attribute
    r"|\son[a-z]+\s*=\s*[\"']"  # an event handler attribute
    r"|javascript:",
    re.IGNORECASE,
)


def test_the_policy_allows_only_this_site():
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert "object-src 'none'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert "*" not in CONTENT_SECURITY_POLICY


def test_pages_carry_the_policy_and_the_security_headers():
    response = Client().get("/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_the_api_carries_the_policy_too():
    response = Client().get("/api/students")
    assert response.status_code == 401
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_pages_of_a_signed_in_user_are_not_cached(registrar):
    client = Client()
    client.force_login(registrar)
    response = client.get("/")
    assert response["Cache-Control"] == "no-store"


def test_the_csrf_cookie_is_out_of_reach_of_scripts():
    response = Client().get("/login/")
    assert response.cookies["csrftoken"]["httponly"]


def test_there_are_templates_to_check():
    names = {path.name for path in TEMPLATES}
    assert {"base.html", "login.html", "second_factor_setup.html"} <= names


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_template_has_inline_script_or_style(template):
    """The policy would block them: behaviour goes in static/js, looks in static/css."""
    found = INLINE.findall(template.read_text(encoding="utf-8"))
    assert found == [], f"{template}: {found}"
