"""A province closes transfers on its page, in a real headless Chromium, and a transfer filed
in that period shows as held with the date it resumes: on the receiving registrar's page, and in
the queue of the period's own page.

广东's bureau approver closes transfers from today for ten days; the registrar of a 北京 school
then files, through the pages, the transfer of a child of 深圳 (广东): the application is filed
and held, and says when it proceeds; 广东's period page lists it with that date.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import formats, translation

from xueji.access.scope import today
from xueji.changes.models import ChangeRequest, ChangeState, ClosedPeriod
from xueji.changes.tests.views.scenario import build_scene
from xueji.changes.tests.views.test_browser_transfer import sign_in
from xueji.corrections.tests.files import PDF
from xueji.testing.browser import chromium_context

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    # Only the period the province sets on the page, whatever the date the test runs on.
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {}
    settings.XUEJI_PROVINCE_RULES = {}
    with chromium_context(monkeypatch, locale="zh-CN") as context:
        yield context.new_page()


def shown(day: datetime.date) -> str:
    """A date as the Chinese pages show it (SHORT_DATE_FORMAT)."""
    with translation.override("zh-hans"):
        return formats.date_format(day, "SHORT_DATE_FORMAT")


def test_a_province_closes_transfers_and_a_transfer_filed_then_is_held(page, live_server):
    from playwright.sync_api import expect

    scene = build_scene()
    first = today()
    last = first + datetime.timedelta(days=9)
    resumes = last + datetime.timedelta(days=1)

    # 广东 closes transfers on its page of closed periods.
    sign_in(page, live_server, scene.approvers["440000"])
    page.click("#changes-nav")
    page.click("#periods-link")
    expect(page.locator("h1")).to_have_text("业务暂停期")
    form = page.locator("#add-period")
    form.locator("#id_operation").select_option("transfer")
    form.locator("#id_starts_on").fill(first.isoformat())
    form.locator("#id_ends_on").fill(last.isoformat())
    form.locator("#id_note").fill("秋季学籍核查")
    form.get_by_role("button", name="在这些日期暂停").click()
    expect(page.locator(".message.success")).to_contain_text("暂停办理")
    period = ClosedPeriod.objects.get()
    assert period.division_id == "440000" and period.operation == "transfer"
    expect(page.locator("#period-first")).to_have_text(first.isoformat())
    expect(page.locator("#held-count")).to_have_text("(0)")

    # A 北京 school takes in a child of 深圳 (广东): filed, and held until the period ends.
    child = scene.child
    sign_in(page, live_server, scene.receiver.registrar)
    page.click("#changes-nav")
    page.get_by_role("link", name="办理转入").click()
    page.fill("#id_number", child.reveal_student_number())
    page.fill("#id_name", "张春铭")
    page.get_by_role("button", name="查找").click()
    page.select_option("#id_to_class", str(scene.klass(scene.receiver).pk))
    page.fill("#id_reason", "随父母工作调动到北京")
    page.set_input_files(
        "#id_guardian_request",
        files=[{"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.get_by_role("button", name="提交转学申请").click()
    expect(page.locator(".message.info")).to_contain_text(resumes.isoformat())
    expect(page.locator("#held-notice")).to_contain_text(shown(resumes))
    change = ChangeRequest.objects.get(student=child)
    assert change.state == ChangeState.HELD and change.resumes_on == resumes
    # In the registrar's queue: counted on its tab; held, with the date it resumes.
    page.click("#changes-nav")
    expect(page.locator("#held-count")).to_have_text("1")
    page.click("#box-held")
    held = page.locator(f"#held #change-{change.pk}")
    expect(held).to_contain_text(shown(resumes))

    # 广东's period page lists the request it holds, with its resume date.
    sign_in(page, live_server, scene.approvers["440000"])
    page.goto(f"{live_server.url}/changes/periods/{period.pk}/")
    expect(page.locator("#held-count")).to_have_text("(1)")
    row = page.locator(f"#held #change-{change.pk}")
    expect(row).to_contain_text(scene.sender.school.name)
    expect(row).to_contain_text(shown(resumes))
