"""Cross-province transfer end to end through the pages, in a real headless Chromium.

The receiving registrar in 北京 (东城区) finds a child of 深圳 (福田区) by number and name and files
the application with the guardian's request; then each party of the chain signs in and approves
from its queue page (htmx), in order: 东城区 bureau, 北京 province, the sending school, 福田区
bureau, 广东 province. The child then appears on the receiver's class roster under the same
lifelong number, and the sender's roster no longer lists the child.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from xueji.changes.models import ChangeRequest, ChangeState, StepState
from xueji.changes.tests.views.scenario import build_scene
from xueji.corrections.tests.files import PDF
from xueji.students.models import Placement, RecordState, Student
from xueji.testing.browser import chromium_context

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    # No closed period, whatever the date the test runs on (a held transfer is another test).
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {}
    with chromium_context(monkeypatch, locale="zh-CN") as context:
        yield context.new_page()


def sign_in(page: Any, live_server: Any, user: Any) -> None:
    from playwright.sync_api import expect

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    expect(page.locator("#changes-nav")).to_be_visible()


def test_cross_province_transfer_end_to_end_through_the_pages(page, live_server, settings):
    from playwright.sync_api import expect

    scene = build_scene()
    child = scene.child
    number = child.reveal_student_number()
    sender_class = scene.klass(scene.sender)
    receiver_class = scene.klass(scene.receiver)

    # The receiving registrar (北京) finds the child: a masked minimum only.
    sign_in(page, live_server, scene.receiver.registrar)
    page.click("#changes-nav")
    expect(page.locator("h1")).to_have_text("学籍异动")
    page.get_by_role("link", name="办理转入").click()
    page.fill("#id_number", number)
    page.fill("#id_name", "张春铭")
    page.get_by_role("button", name="查找").click()
    expect(page.locator("#masked-name")).to_have_text("张*铭")
    expect(page.locator("#current-school")).to_have_text(scene.sender.school.name)
    expect(page.locator("#candidate")).not_to_contain_text("张春铭")
    assert number[1:] not in page.content()

    # The application: the class, the reason, the guardian's request.
    page.select_option("#id_to_class", str(receiver_class.pk))
    page.fill("#id_reason", "随父母工作调动到北京")
    page.set_input_files(
        "#id_guardian_request",
        files=[{"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.get_by_role("button", name="提交转学申请").click()
    expect(page.locator(".message.success")).to_contain_text("申请已提交")
    expect(page.locator("#steps tbody tr")).to_have_count(6)
    expect(page.locator('#steps tr[data-step="1"]')).to_have_attribute(
        "data-step-state", "approved"
    )
    expect(page.locator('#steps tr[data-step="2"]')).to_have_attribute("data-step-state", "pending")
    change = ChangeRequest.objects.get(student=child)
    assert Student.objects.get(pk=child.pk).state == RecordState.TRANSFERRING

    # 转学中 on the receiving side: the class it goes to lists the child coming in.
    page.goto(f"{live_server.url}/classes/{receiver_class.pk}/")
    expect(page.locator("#incoming")).to_contain_text("张*铭")
    expect(page.locator("#incoming")).to_contain_text("转学中")

    # Each party signs in and approves from its queue, in order.
    chain = [
        scene.approvers["110101"],  # 东城区 (receiving county)
        scene.approvers["110000"],  # 北京市 (receiving province)
        scene.sender.principal,  # the sending school
        scene.approvers["440304"],  # 福田区 (sending county)
        scene.approvers["440000"],  # 广东省 (sending province)
    ]
    for position, party in enumerate(chain, start=2):
        sign_in(page, live_server, party)
        expect(page.locator("#inbox-count")).to_have_text("1")
        page.click("#changes-nav")
        row = page.locator(f"#change-{change.pk}")
        expect(row).to_contain_text("张春铭")
        row.get_by_role("button", name="通过", exact=True).click()
        if position == len(chain) + 1:
            # The final approval moves the record: it asks first, in the row, naming the
            # child, the change and where the child goes; the count waits for the answer.
            expect(row).to_contain_text(
                f"批准后，张春铭 将从{scene.sender.school.name}转入{scene.receiver.school.name}"
            )
            expect(page.locator("#inbox-count")).to_have_text("1")
            row.get_by_role("button", name="确认批准").click()
        # htmx swaps the row for the outcome, without leaving the page.
        expect(row.locator(".outcome")).to_contain_text("已通过")
        # The header's count goes at once, swapped out of band with the row.
        expect(page.locator("#inbox-count")).to_have_count(0)
        if position == len(chain) + 1:
            expect(row.locator(".outcome")).to_contain_text("异动办结")
        step = ChangeRequest.objects.get(pk=change.pk).steps.get(ordinal=position)
        assert step.state == StepState.APPROVED and step.decided_by_id == party.pk
        if party == scene.sender.principal:
            # On the sending side the roster says 转学中 while the chain runs.
            page.goto(f"{live_server.url}/classes/{sender_class.pk}/")
            expect(page.locator("main")).to_contain_text("转学中")
        page.reload()
        expect(page.locator("#inbox-count")).to_have_count(0)

    change.refresh_from_db()
    assert change.state == ChangeState.COMPLETED

    # The receiver's roster lists the child, under the same lifelong number.
    moved = Student.objects.get(pk=child.pk)
    assert moved.reveal_student_number() == number
    assert moved.school_id == scene.receiver.school.pk and moved.state == RecordState.ENROLLED
    sign_in(page, live_server, scene.receiver.registrar)
    page.goto(f"{live_server.url}/classes/{receiver_class.pk}/")
    listed = page.locator("table tbody tr", has_text="张春铭")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(moved.number_masked)
    expect(page.locator("#incoming")).to_have_count(0)
    # The applicant's progress page shows the whole chain approved.
    page.goto(f"{live_server.url}/changes/{change.pk}/")
    expect(page.locator('#steps tr[data-step-state="approved"]')).to_have_count(6)

    # The sender no longer lists the child.
    sign_in(page, live_server, scene.sender.registrar)
    page.goto(f"{live_server.url}/classes/{sender_class.pk}/")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("张春铭")
    assert not Placement.objects.filter(
        student=child, school=scene.sender.school, end_date__isnull=True
    ).exists()
