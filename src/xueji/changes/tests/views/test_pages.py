"""The change pages: the transfer application, changes filed from the record, the queues with
htmx decisions, the approval chain, withdrawal, evidence, the public notice, and refusals."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.access.scope import today
from xueji.changes.models import ChangeEvidence, ChangeRequest, ChangeState, StepState
from xueji.changes.tests.views.scenario import (
    YEAR,
    approve_all,
    approve_until,
    client_as,
    enrol,
    file_suspension,
    file_transfer,
)
from xueji.corrections.tests.files import PDF, png
from xueji.students.models import RecordState, Student

pytestmark = pytest.mark.django_db


def pdf(name="申请书.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_the_receiving_registrar_finds_the_child_masked_and_files_the_application(scene):
    client = client_as(scene.receiver.registrar)
    number = scene.child.reveal_student_number()
    page = client.get("/changes/transfer/")
    assert page.status_code == 200 and 'name="number"' in page.content.decode()

    # A wrong name finds nothing (and says so in the same words as a wrong number); nothing is
    # kept to file against.
    wrong = client.post("/changes/transfer/", {"step": "find", "number": number, "name": "张春"})
    assert wrong.status_code == 404 and "No child has this student number" in wrong.content.decode()
    assert number[1:] not in wrong.content.decode()
    blind = {"step": "file", "to_class": scene.klass(scene.receiver).pk, "reason": "x"}
    assert (
        client.post("/changes/transfer/", {**blind, "guardian_request": pdf()}).status_code == 400
    )
    assert not ChangeRequest.objects.exists()

    # Find: only the masked minimum, no ID number, no full student number.
    found = client.post("/changes/transfer/", {"step": "find", "number": number, "name": "张春铭"})
    html = found.content.decode()
    assert found.status_code == 200
    assert "张*铭" in html and scene.sender.school.name in html
    candidate = html[html.index('id="candidate"') : html.index('id="application"')]
    assert "张春铭" not in candidate
    assert scene.child.reveal_id_number() not in html
    assert number[1:] not in html and str(scene.child.pk) not in html

    # File it: without the guardian's request first.
    to_class = scene.klass(scene.receiver)
    data = {
        "step": "file",
        "to_class": to_class.pk,
        "reason": "随父母工作调动",
    }
    refused = client.post("/changes/transfer/", data)
    assert refused.status_code == 400 and not ChangeRequest.objects.exists()
    filed = client.post(
        "/changes/transfer/",
        {
            **data,
            "guardian_request": pdf(),
            "evidence": [SimpleUploadedFile("居住证.png", png(), content_type="image/png")],
        },
    )
    assert filed.status_code == 302, filed.content.decode()[-3000:]
    change = ChangeRequest.objects.get()
    assert filed["Location"] == f"/changes/{change.pk}/"
    assert change.kind == "transfer" and change.to_class_id == to_class.pk
    assert ChangeEvidence.objects.filter(request=change).count() == 2
    assert Student.objects.get(pk=scene.child.pk).state == RecordState.TRANSFERRING

    detail = client.get(f"/changes/{change.pk}/").content.decode()
    assert detail.count('data-step="') == 6
    assert 'data-step-state="pending"' in detail and "Withdraw the application" in detail


def test_the_transfer_page_is_only_the_registrars(scene):
    assert client_as(scene.receiver.principal).get("/changes/transfer/").status_code == 403
    assert client_as(scene.class_teacher).get("/changes/transfer/").status_code == 403
    assert client_as(scene.approvers["110101"]).get("/changes/transfer/").status_code == 403


def test_the_record_page_offers_the_changes_and_shows_one_under_way(scene):
    url = f"/students/{scene.child.pk}/"
    page = client_as(scene.sender.registrar).get(url).content.decode()
    assert f"/changes/students/{scene.child.pk}/new/?kind=suspend" in page
    assert "/changes/students/" not in client_as(scene.sender.principal).get(url).content.decode()

    change = file_transfer(scene, scene.child)
    page = client_as(scene.sender.registrar).get(url).content.decode()
    assert f"/changes/{change.pk}/" in page and "Transfer under way" in page
    assert "/changes/students/" not in page
    # The sender's roster shows the state; the receiver's class lists the child coming in.
    roster = client_as(scene.sender.registrar).get(f"/classes/{scene.klass(scene.sender).pk}/")
    assert "Transfer under way" in roster.content.decode()
    incoming = client_as(scene.receiver.registrar).get(
        f"/classes/{scene.klass(scene.receiver).pk}/"
    )
    html = incoming.content.decode()
    assert 'id="incoming"' in html and "张*铭" in html and f"/changes/{change.pk}/" in html


def test_a_suspension_is_filed_from_the_record_with_evidence(scene):
    client = client_as(scene.sender.registrar)
    url = f"/changes/students/{scene.child.pk}/new/"
    assert 'value="suspend" selected' in client.get(url + "?kind=suspend").content.decode()
    without = client.post(url, {"kind": "suspend", "initiator": "guardian", "reason": "病休"})
    assert without.status_code == 400 and not ChangeRequest.objects.exists()
    first, last = today(), today() + datetime.timedelta(days=120)
    response = client.post(
        url,
        {
            "kind": "suspend",
            "initiator": "guardian",
            "reason": "病休",
            "suspended_from": first.isoformat(),
            "suspended_until": last.isoformat(),
            "guardian_request": pdf(),
            "evidence": [pdf("诊断证明.pdf")],
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    change = ChangeRequest.objects.get()
    assert change.kind == "suspend" and change.state == ChangeState.PENDING
    assert (change.suspended_from, change.suspended_until) == (first, last)
    # A second one while it is under way: sent to the first.
    again = client.get(url)
    assert again.status_code == 302 and again["Location"] == f"/changes/{change.pk}/"
    # Another school's registrar: the student does not exist for them.
    assert client_as(scene.nanshan.registrar).get(url).status_code == 404


def test_the_queue_decides_by_htmx_and_shows_the_inbox_count(scene):
    change = file_transfer(scene, scene.child)
    county = client_as(scene.approvers["110101"])
    page = county.get("/changes/").content.decode()
    assert 'id="inbox-count"' in page and f'id="change-{change.pk}"' in page
    assert "/bureau-decision/" in page and "张春铭" in page

    row = county.post(
        f"/changes/{change.pk}/bureau-decision/",
        {"decision": "approve", "step": "2"},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200
    html = row.content.decode()
    assert html.startswith("<tr") and "goes on to the next party" in html
    # The header's count goes with it, out of band: nothing waits for this county any more.
    assert '<span id="inbox-count" hx-swap-oob="delete"></span>' in html
    assert ChangeRequest.objects.get().steps.get(ordinal=2).state == StepState.APPROVED
    assert 'id="inbox-count"' not in county.get("/changes/").content.decode()

    # With another request still waiting, the count is swapped for the new one.
    first, second = (
        file_transfer(scene, enrol(scene.sender, name)) for name in ("王小明", "李小红")
    )
    decided = county.post(
        f"/changes/{first.pk}/bureau-decision/",
        {"decision": "approve", "step": "2"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert re.search(r'<span [^>]*id="inbox-count"[^>]*hx-swap-oob="true">1</span>', decided)
    assert f'id="change-{second.pk}"' in county.get("/changes/").content.decode()

    # A stale second click on the same step is refused, not applied twice.
    stale = county.post(
        f"/changes/{change.pk}/bureau-decision/",
        {"decision": "approve", "step": "2"},
        headers={"HX-Request": "true"},
    )
    assert stale.status_code == 200 and 'class="errorlist"' in stale.content.decode()


def test_a_rejection_needs_a_reason_and_the_applicant_sees_it(scene):
    change = file_transfer(scene, scene.child)
    county = client_as(scene.approvers["110101"])
    url = f"/changes/{change.pk}/bureau-decision/"
    county.post(url, {"decision": "reject"}, headers={"HX-Request": "true"})
    assert ChangeRequest.objects.get().state == ChangeState.PENDING
    response = county.post(url, {"decision": "reject", "reason": "学位已满"})
    assert response.status_code == 302 and response["Location"] == f"/changes/{change.pk}/"
    assert ChangeRequest.objects.get().state == ChangeState.REJECTED
    page = client_as(scene.receiver.registrar).get(f"/changes/{change.pk}/").content.decode()
    assert "学位已满" in page and 'data-state="rejected"' in page
    assert Student.objects.get(pk=scene.child.pk).state == RecordState.ENROLLED


def test_who_may_not_decide_is_refused(scene):
    change = file_transfer(scene, scene.child)
    change = approve_until(scene, change, 2)  # now at the sending school
    school_url = f"/changes/{change.pk}/school-decision/"
    # A class teacher: the role may not decide at all.
    assert (
        client_as(scene.class_teacher).post(school_url, {"decision": "approve"}).status_code == 403
    )
    # Another school's registrar: the request is not there for it.
    assert (
        client_as(scene.nanshan.registrar).post(school_url, {"decision": "approve"}).status_code
        == 404
    )
    assert client_as(scene.nanshan.registrar).get(f"/changes/{change.pk}/").status_code == 404
    # A county approver of another county: 404; a viewer may not decide: 403.
    bureau_url = f"/changes/{change.pk}/bureau-decision/"
    assert (
        client_as(scene.approvers["440305"]).post(bureau_url, {"decision": "approve"}).status_code
        == 404
    )
    assert (
        client_as(scene.shenzhen_viewer).post(bureau_url, {"decision": "approve"}).status_code
        == 403
    )
    # The sending county sees it but it is not its turn yet: refused with the reason, no change.
    client_as(scene.approvers["440304"]).post(bureau_url, {"decision": "approve"})
    assert ChangeRequest.objects.get().steps.get(state=StepState.PENDING).level == "school"
    # The receiving registrar cannot decide the sender's step either.
    client_as(scene.receiver.registrar).post(school_url, {"decision": "approve"})
    assert ChangeRequest.objects.get().steps.get(state=StepState.PENDING).ordinal == 4


def test_the_applicant_withdraws_and_nobody_else_may(scene):
    change = file_transfer(scene, scene.child)
    url = f"/changes/{change.pk}/withdraw/"
    assert client_as(scene.sender.registrar).post(url).status_code == 403
    assert client_as(scene.nanshan.registrar).post(url).status_code == 404
    assert ChangeRequest.objects.get().state == ChangeState.PENDING
    response = client_as(scene.receiver.registrar).post(url)
    assert response.status_code == 302
    assert ChangeRequest.objects.get().state == ChangeState.WITHDRAWN
    assert Student.objects.get(pk=scene.child.pk).state == RecordState.ENROLLED


def test_evidence_downloads_for_the_parties_only(scene):
    change = file_transfer(scene, scene.child)
    evidence = change.evidence.get()
    url = f"/changes/{change.pk}/evidence/{evidence.pk}/"
    response = client_as(scene.approvers["110101"]).get(url)
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert client_as(scene.approvers["440305"]).get(url).status_code == 404
    assert client_as(scene.shenzhen_viewer).get(url).status_code == 403


def test_the_public_notice_page_masks_names_and_shows_no_numbers(scene):
    change = approve_all(scene, file_transfer(scene, scene.child))
    on = change.effective_date.isoformat()
    page = client_as(scene.sender.principal).get(
        f"/changes/notice/{scene.sender.school.pk}/", {"start": on, "end": on}
    )
    html = page.content.decode()
    assert page.status_code == 200 and "张*铭" in html and "张春铭" not in html
    assert scene.receiver.school.name in html
    assert not re.search(r"[GJL]\d{6}", html)
    assert (
        client_as(scene.nanshan.registrar)
        .get(f"/changes/notice/{scene.sender.school.pk}/")
        .status_code
        == 404
    )
    assert (
        client_as(scene.class_teacher).get(f"/changes/notice/{scene.sender.school.pk}/").status_code
        == 403
    )


def test_pages_render_in_chinese_by_default(scene):
    change = file_transfer(scene, scene.child)
    client = client_as(scene.receiver.registrar, language="zh-hans")
    assert "学籍异动" in client.get("/changes/").content.decode()
    assert "审核流程" in client.get(f"/changes/{change.pk}/").content.decode()
    assert "办理转入" in client.get("/changes/transfer/").content.decode()


def test_a_held_request_shows_the_date_it_resumes(scene):
    other = enrol(scene.nanshan, "王大山")
    change = file_suspension(scene.nanshan, other)
    change.steps.exclude(ordinal=1).update(state=StepState.WAITING, due_on=None, current_since=None)
    import datetime

    ChangeRequest.objects.filter(pk=change.pk).update(
        state=ChangeState.HELD, resumes_on=datetime.date(YEAR + 1, 8, 15)
    )
    client = client_as(scene.nanshan.registrar)
    # The held tab counts it; opened, it lists it with the date it resumes.
    assert re.search(r'id="held-count">1<', client.get("/changes/").content.decode())
    page = client.get("/changes/?box=held").content.decode()
    assert f'id="change-{change.pk}"' in page and str(YEAR + 1) in page
    detail = client_as(scene.nanshan.registrar).get(f"/changes/{change.pk}/").content.decode()
    assert 'id="held-notice"' in detail


def test_a_class_change_is_done_by_the_school_alone_from_the_record(scene):
    client = client_as(scene.sender.registrar)
    other_class = scene.klass(scene.sender, grade=2, number=2)
    response = client.post(
        f"/changes/students/{scene.child.pk}/new/",
        {
            "kind": "class_change",
            "initiator": "school",
            "to_class": other_class.pk,
            "reason": "分班调整",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    change = ChangeRequest.objects.get()
    assert change.state == ChangeState.COMPLETED
    roster = client.get(f"/classes/{other_class.pk}/").content.decode()
    assert "张春铭" in roster


def test_a_death_is_recorded_with_a_certificate_and_no_guardian_request(scene):
    client = client_as(scene.sender.registrar)
    url = f"/changes/students/{scene.child.pk}/new/"
    without = client.post(url, {"kind": "death", "initiator": "school", "reason": "病故"})
    assert without.status_code == 400 and not ChangeRequest.objects.exists()
    response = client.post(
        url,
        {
            "kind": "death",
            "initiator": "school",
            "reason": "病故",
            "evidence": [pdf("死亡证明.pdf")],
        },
    )
    assert response.status_code == 302
    change = approve_all(scene, ChangeRequest.objects.get())
    assert change.state == ChangeState.COMPLETED
    assert Student.objects.get(pk=scene.child.pk).state == RecordState.DECEASED
