"""In a real headless Chromium: a bureau user sets up the authenticator with the enrolment code an
administrator issued and logs in with password and authenticator code, and no page breaks the
content security policy (the browser reports every blocked script, style or handler on the
console)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.oath import TOTP

from xueji.access.models import Role
from xueji.accounts.second_factor.services import second_factor_code_issue
from xueji.geo.models import Division
from xueji.testing.browser import chromium_context
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    settings.XUEJI_TWO_FACTOR_REQUIRED = True
    with chromium_context(monkeypatch, locale="en-US") as context:
        page = context.new_page()
        page.csp_violations = []  # type: ignore[attr-defined]
        page.on(
            "console",
            lambda message: (
                page.csp_violations.append(message.text)  # type: ignore[attr-defined]
                if "Content Security Policy" in message.text
                else None
            ),
        )
        yield page


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button.primary")


def test_a_bureau_user_sets_up_the_second_factor_and_gets_in(page, live_server):
    from playwright.sync_api import expect

    futian = Division.objects.get(code="440304")
    viewer = member(Role.BUREAU_VIEWER, division=futian, username="futian-viewer")
    enrolment_code = second_factor_code_issue(actor=None, user=viewer).code
    log_in(page, live_server, "futian-viewer")
    expect(page).to_have_url(re.compile(r"/account/second-factor/setup/"))
    expect(page.locator(".qr svg")).to_be_visible()
    key = page.locator("code.secret").inner_text().replace(" ", "")
    code = f"{TOTP(base64.b32decode(key)).token():06d}"
    page.fill("#id_enrolment_code", enrolment_code)
    page.fill("#id_token", code)
    page.click("button.primary")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("#recovery-codes-kept")
    expect(page).to_have_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/stats/")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/students/search/")
    page.fill("#id_q", "zcm")
    page.wait_for_load_state("networkidle")
    assert page.csp_violations == []

    # Logged out and in again: the code of the app, not a new setup.
    page.click("form[action='/logout/'] button")
    log_in(page, live_server, "futian-viewer")
    expect(page).to_have_url(re.compile(r"/account/second-factor/\?next="))


def test_the_registration_page_works_under_the_policy(page, live_server):
    from playwright.sync_api import expect

    school = SchoolFactory(county=Division.objects.get(code="440304"))
    SchoolClassFactory(school=school, grade=1)
    member(Role.REGISTRAR, school=school, username="registrar")
    log_in(page, live_server, "registrar")
    page.goto(f"{live_server.url}/students/register/")
    members = page.locator("fieldset.member")
    before = members.count()
    page.click("button[hx-get]")
    expect(members).to_have_count(before + 1)
    members.last.locator("[data-remove-closest]").click()
    expect(members).to_have_count(before)
    assert page.csp_violations == []


def test_the_browser_reports_what_the_policy_blocks(page, live_server):
    """The check above would see a violation: an inline script is blocked and reported."""
    page.goto(f"{live_server.url}/login/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.append(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None
    assert page.csp_violations
