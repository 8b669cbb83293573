"""The class teacher takes the roll on a phone (375 px wide, in a real headless Chromium):
everyone present by default, a tap marks a child absent and shows the reason, a sick child asks
for the symptom; the page fits the phone's width and the saved roll holds only the absent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from xueji.attendance.models import Absence, RollCall
from xueji.attendance.tests.conftest import MON
from xueji.testing.browser import chromium_context, sign_in_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium_context(monkeypatch, locale="zh-CN") as context:
        page = context.new_page()
        page.set_viewport_size({"width": 375, "height": 740})
        yield context, page


def test_the_roll_on_a_phone(att, phone, live_server):
    from playwright.sync_api import expect

    context, page = phone
    sign_in_session(context, live_server, att["teacher"])
    a, b, *_ = att["pupils"]
    page.goto(f"{live_server.url}/attendance/roll/{att['class'].pk}/?day={MON.isoformat()}")
    expect(page.locator("h1")).to_contain_text(MON.isoformat())
    # No sideways scroll at phone width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    first = page.locator(f"#child-{a.pk}")
    detail = first.locator(".roll-detail")
    expect(detail).to_be_hidden()
    expect(first.locator(".roll-state")).to_be_visible()
    first.locator(".roll-tap").click()
    expect(detail).to_be_visible()
    symptom = first.locator(f"select[name='symptom-{a.pk}']")
    expect(symptom).to_be_hidden()
    first.locator(f"select[name='reason-{a.pk}']").select_option("sick")
    expect(symptom).to_be_visible()
    symptom.select_option("fever")
    second = page.locator(f"#child-{b.pk}")
    second.locator(".roll-tap").click()
    second.locator(f"select[name='reason-{b.pk}']").select_option("unexcused")
    second.locator(f"select[name='portion-{b.pk}']").select_option("am")
    page.locator(".roll-bar button").click()
    expect(page.locator(".messages")).to_be_visible()
    assert RollCall.objects.filter(school_class=att["class"], day=MON).count() == 1
    assert sorted(Absence.objects.values_list("reason", "portion", "symptom")) == [
        ("sick", "full", "fever"),
        ("unexcused", "am", ""),
    ]
    # Back on the page, the absent are ticked; the others present.
    expect(page.locator(f"#child-{a.pk} input[name='absent']")).to_be_checked()
    expect(page.locator(f"#child-{att['pupils'][2].pk} input[name='absent']")).not_to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
