"""A final approval, the one that moves the placement or changes the record's state, asks for a
confirmation naming the child, the change and its effect, by htmx from the queue (no script of
the page's) or as a page from the request's; the confirmed approval updates the header's inbox
count out of band (issue 20, item 2). The steps before it stay one click."""

import re

import pytest
from django.utils import translation

from xueji.changes.models import ChangeRequest, ChangeState, StepState
from xueji.changes.tests.views.scenario import (
    approve_until,
    client_as,
    enrol,
    file_suspension,
    file_transfer,
)
from xueji.changes.wording import effect_on_approval
from xueji.students.models import Placement, RecordState, Student

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_the_final_approval_from_the_queue_asks_first_naming_child_change_and_effect(scene):
    change = file_transfer(scene, scene.child)
    change = approve_until(scene, change, 4)  # now at 广东, the last party
    province = client_as(scene.approvers["440000"])
    url = f"/changes/{change.pk}/bureau-decision/"
    asked = province.post(
        url, {"decision": "approve", "step": "6", "next": "/changes/?box=waiting"}, headers=HTMX
    )
    assert asked.status_code == 200
    html = asked.content.decode()
    assert html.startswith(f'<tr id="change-{change.pk}"')
    # The child (in full: the province holds the record), the change and where the child goes.
    assert "张春铭" in html and "Transfer to another school" in html
    assert f"张春铭 will leave {scene.sender.school.name} for {scene.receiver.school.name}" in html
    # The confirmation is a POST of its own, by htmx; no script, no inline handler.
    assert 'name="confirmed" value="yes"' in html and f'hx-post="{url}"' in html
    assert "<script" not in html and not re.search(r"\son[a-z]+=", html)
    assert 'hx-get="/changes/?box=waiting"' in html  # cancel: the row as it was
    # Nothing is decided yet: the child is still at the sending school.
    assert ChangeRequest.objects.get().state == ChangeState.PENDING
    assert Student.objects.get(pk=scene.child.pk).school_id == scene.sender.school.pk

    done = province.post(
        url, {"decision": "approve", "step": "6", "confirmed": "yes"}, headers=HTMX
    )
    decided = done.content.decode()
    assert done.status_code == 200 and "The change is complete" in decided
    assert ChangeRequest.objects.get().state == ChangeState.COMPLETED
    assert Student.objects.get(pk=scene.child.pk).school_id == scene.receiver.school.pk
    # The header's count goes out of band, and the queue's tabs are told to count again.
    assert '<span id="inbox-count" hx-swap-oob="delete"></span>' in decided
    assert done["HX-Trigger"] == "changeDecided"


def test_the_inbox_count_shows_what_still_waits_after_a_confirmed_approval(scene):
    first, second = (
        file_suspension(scene.sender, enrol(scene.sender, name)) for name in ("王小明", "李小红")
    )
    county = client_as(scene.approvers["440304"])
    page = county.get("/changes/").content.decode()
    assert re.search(r'id="inbox-count"[^>]*>2<', page)
    done = county.post(
        f"/changes/{first.pk}/bureau-decision/",
        {"decision": "approve", "step": "2", "confirmed": "yes"},
        headers=HTMX,
    ).content.decode()
    assert re.search(r'<span [^>]*id="inbox-count"[^>]*hx-swap-oob="true">1</span>', done)
    assert ChangeRequest.objects.get(pk=second.pk).state == ChangeState.PENDING


def test_the_final_approval_from_the_request_page_is_a_confirmation_page(scene):
    change = file_suspension(scene.sender, scene.child)
    county = client_as(scene.approvers["440304"])
    detail = county.get(f"/changes/{change.pk}/").content.decode()
    assert 'id="final-effect"' in detail and "will be suspended" in detail
    url = f"/changes/{change.pk}/bureau-decision/"
    asked = county.post(url, {"decision": "approve", "step": "2", "reason": "同意"})
    assert asked.status_code == 200
    html = asked.content.decode()
    assert 'id="confirm-effect"' in html and "will be suspended (休学)" in html
    assert "张春铭" in html and 'name="reason" value="同意"' in html
    assert ChangeRequest.objects.get().state == ChangeState.PENDING
    assert Student.objects.get(pk=scene.child.pk).state == RecordState.ENROLLED

    confirmed = county.post(
        url, {"decision": "approve", "step": "2", "reason": "同意", "confirmed": "yes"}
    )
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/changes/{change.pk}/"
    change = ChangeRequest.objects.get()
    assert change.state == ChangeState.COMPLETED
    assert change.steps.get(ordinal=2).reason == "同意"
    assert Student.objects.get(pk=scene.child.pk).state == RecordState.SUSPENDED


def test_steps_before_the_last_and_rejections_stay_one_click(scene):
    change = file_transfer(scene, scene.child)
    county = client_as(scene.approvers["110101"])
    row = county.post(
        f"/changes/{change.pk}/bureau-decision/", {"decision": "approve", "step": "2"}, headers=HTMX
    )
    assert "goes on to the next party" in row.content.decode()
    assert ChangeRequest.objects.get().steps.get(ordinal=2).state == StepState.APPROVED

    suspension = file_suspension(scene.nanshan, enrol(scene.nanshan, "王大山"))
    rejected = client_as(scene.approvers["440305"]).post(
        f"/changes/{suspension.pk}/bureau-decision/",
        {"decision": "reject", "step": "2", "reason": "材料不全"},
        headers=HTMX,
    )
    assert "Rejected" in rejected.content.decode()
    assert ChangeRequest.objects.get(pk=suspension.pk).state == ChangeState.REJECTED


def test_who_may_not_decide_gets_no_confirmation_and_a_stale_one_decides_nothing(scene):
    change = file_suspension(scene.sender, scene.child)
    url = f"/changes/{change.pk}/bureau-decision/"
    # Another county: the request does not exist for it; a viewer may not decide at all.
    assert (
        client_as(scene.approvers["440305"]).post(url, {"decision": "approve"}).status_code == 404
    )
    assert client_as(scene.shenzhen_viewer).post(url, {"decision": "approve"}).status_code == 403
    # A confirmation left open while the step was decided elsewhere is refused, not applied twice.
    county = client_as(scene.approvers["440304"])
    county.post(url, {"decision": "approve", "step": "2", "confirmed": "yes"})
    again = county.post(url, {"decision": "approve", "step": "2", "confirmed": "yes"}, headers=HTMX)
    assert 'class="errorlist"' in again.content.decode()
    assert Placement.objects.filter(student=scene.child).count() == 1


def test_the_effect_names_the_child_as_the_reader_may_see_it(scene):
    change = file_transfer(scene, scene.child)
    said = effect_on_approval(change, "张*铭")
    assert said.startswith(
        f"批准后，张*铭 将从{scene.sender.school.name}转入{scene.receiver.school.name}"
    )
    assert "张春铭" not in said
    with translation.override("en"):
        said = effect_on_approval(change, "张*铭")
    assert said.startswith(
        f"张*铭 will leave {scene.sender.school.name} for {scene.receiver.school.name}"
    )
