"""A county reviewer in a real Chromium, in Chinese: opens a proposed pair, sees the reasons
(each field side by side with its contribution), merges with evidence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from xueji.identity.models import DuplicatePair, PairState
from xueji.identity.scan import duplicate_scan
from xueji.students.models import RecordState, Student
from xueji.testing.browser import chromium_context, sign_in_session

from .helpers import county_approver, register
from .test_duplicates import PNG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium_context(monkeypatch, locale="zh-CN", height=1000) as context:
        yield context


def test_a_county_reviewer_opens_a_pair_sees_the_reasons_and_merges_with_evidence(
    browser_context: Any, live_server: Any, tmp_path: Any
) -> None:
    g = register(name="张春铭")
    j = register(name="张春明", id_doc_type="Z", id_number="")
    duplicate_scan(actor=None)
    pair = DuplicatePair.objects.get()
    reviewer = county_approver()
    sign_in_session(browser_context, live_server, reviewer)
    page = browser_context.new_page()
    page.goto(f"{live_server.url}/identity/pairs/")
    page.click(f"a[href='/identity/pairs/{pair.pk}/']")
    page.wait_for_load_state()
    table = page.locator("#side-by-side").inner_text()
    assert "张春铭" in table and "张春明" in table
    assert "+3.0" in table or "3.0" in table  # the name's contribution (a homophone)
    assert "不一致" in table  # the name differs
    evidence = tmp_path / "在读证明.png"
    evidence.write_bytes(PNG)
    page.check("#decide input[name=attends][value=a]")
    page.set_input_files("#evidence", str(evidence))
    page.check("#decide input[name=confirmed]")
    page.click("#merge")
    page.wait_for_load_state()
    assert "已合并" in page.content()
    pair.refresh_from_db()
    assert pair.state == PairState.SAME
    assert pair.evidence.count() == 1
    assert Student.objects.get(pk=j.pk).state == RecordState.MERGED
    assert pair.survivor_id == g.pk
