"""A registrar issues a 学籍证明 on the pages, in a real headless Chromium; a stranger (no
account, another browser) scans its QR code from the PDF and sees that it is valid, and after the
registrar withdraws it, that it no longer is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pypdfium2
import pytest
import zxingcpp

from xueji.archive.models import Certificate
from xueji.testing.browser import chromium_context, sign_in_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def context(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium_context(monkeypatch, locale="zh-CN") as context:
        yield context


def test_the_registrar_issues_and_a_stranger_verifies(context, live_server, school):
    from playwright.sync_api import expect

    pupil = school["pupil"]
    sign_in_session(context, live_server, school["registrar"])
    page = context.new_page()
    page.goto(f"{live_server.url}/archive/students/{pupil.pk}/")
    page.get_by_role("link", name="出具学籍证明").click()
    page.fill("#requested_by", "张伟")
    page.get_by_role("button", name="出具").click()
    expect(page.locator("h1")).to_have_text("学籍证明")
    certificate = Certificate.objects.get(student=pupil)

    # The PDF as the guardian gets it; its QR code, read off the rendered page.
    pdf = page.request.get(f"{live_server.url}/archive/certificates/{certificate.pk}/pdf/").body()
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=3).to_pil()
    (code,) = zxingcpp.read_barcodes(image)
    assert code.text.startswith(live_server.url + "/certificates/v/")

    # A stranger: another browser context of the same browser, with no cookies.
    stranger_context = context.browser.new_context(locale="zh-CN")
    try:
        stranger = stranger_context.new_page()
        stranger.goto(code.text)
        expect(stranger.locator("#verdict")).to_have_text("这份学籍证明有效。")
        expect(stranger.locator("dl.facts")).to_contain_text(pupil.name)

        # The registrar withdraws it; the stranger's page now says so.
        page.get_by_role("link", name="撤回").click()
        page.fill("#reason", "信息有误")
        page.get_by_role("button", name="撤回学籍证明").click()
        stranger.reload()
        expect(stranger.locator("#verdict")).to_contain_text("已失效")
    finally:
        stranger_context.close()
