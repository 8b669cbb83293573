"""The changes API: look-up, filing, the queues, decisions, withdrawal, the public notice, and
its refusals as JSON; the OpenAPI document stays valid."""

import base64
import re

import pytest

from xueji.changes.models import ChangeRequest, ChangeState, StepState
from xueji.changes.tests.views.scenario import (
    approve_all,
    enrol,
    file_suspension,
    file_transfer,
)
from xueji.corrections.tests.files import PDF
from xueji.students.models import RecordState, Student
from xueji.testing.api import ApiClient, api_as

pytestmark = pytest.mark.django_db

PDF64 = base64.b64encode(PDF).decode()


def test_the_receiving_registrar_looks_up_masked_and_files_a_transfer(scene):
    api = api_as(scene.receiver.registrar, language="en")
    number = scene.child.reveal_student_number()
    found = api.post("/api/changes/transfers/lookup", {"student_number": number, "name": "张春铭"})
    assert found.status_code == 200
    body = found.json()
    assert body["masked_name"] == "张*铭" and body["school_name"] == scene.sender.school.name
    assert set(body) == {"masked_name", "sex", "birth_year", "school_name", "grade", "state"}
    missing = api.post("/api/changes/transfers/lookup", {"student_number": number, "name": "张"})
    assert missing.status_code == 404 and missing.json()["code"] == "student_not_found"

    payload = {
        "student_number": number,
        "name": "张春铭",
        "to_class_id": scene.klass(scene.receiver).pk,
        "reason": "随父母工作调动",
    }
    refused = api.post("/api/changes/transfers", payload)
    assert refused.status_code == 400 and "guardian_request" in refused.json()["fields"]
    bad = api.post(
        "/api/changes/transfers",
        {**payload, "guardian_request": {"name": "a.pdf", "content_base64": "***"}},
    )
    assert (
        bad.status_code == 400 and bad.json()["fields"]["guardian_request"][0]["code"] == "base64"
    )
    filed = api.post(
        "/api/changes/transfers",
        {**payload, "guardian_request": {"name": "申请书.pdf", "content_base64": PDF64}},
    )
    assert filed.status_code == 201, filed.content
    detail = filed.json()
    assert detail["state"] == "pending" and detail["kind"] == "transfer"
    assert [s["level"] for s in detail["steps"]] == [
        "school",
        "county",
        "province",
        "school",
        "county",
        "province",
    ]
    assert detail["current_step"]["ordinal"] == 2 and detail["current_step"]["due_on"]
    assert detail["may_withdraw"] and not detail["may_decide"]
    assert detail["student_number"] == scene.child.number_masked
    assert number[1:] not in filed.content.decode()
    # The same child cannot be taken twice.
    again = api.post(
        "/api/changes/transfers",
        {**payload, "guardian_request": {"name": "申请书.pdf", "content_base64": PDF64}},
    )
    assert again.status_code == 409 and again.json()["code"] == "change_active"


def test_the_queue_and_the_decisions_follow_the_chain(scene):
    change = file_transfer(scene, scene.child)
    county = api_as(scene.approvers["110101"])
    waiting = county.get("/api/changes").json()
    assert [c["id"] for c in waiting] == [str(change.pk)]
    assert waiting[0]["student_name"] == "张春铭"
    # Not its turn: the sending school and the sending county get a conflict, nothing moves.
    turn = api_as(scene.sender.principal).post(
        f"/api/changes/{change.pk}/school-decision", {"decision": "approve"}
    )
    assert turn.status_code == 409 and turn.json()["code"] == "not_your_step"
    # A rejection needs its reason.
    no_reason = county.post(f"/api/changes/{change.pk}/bureau-decision", {"decision": "reject"})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    approved = county.post(
        f"/api/changes/{change.pk}/bureau-decision", {"decision": "approve", "step": 2}
    )
    assert approved.status_code == 200
    assert approved.json()["current_step"]["ordinal"] == 3
    stale = county.post(
        f"/api/changes/{change.pk}/bureau-decision", {"decision": "approve", "step": 2}
    )
    assert stale.status_code == 409
    assert county.get("/api/changes").json() == []
    assert [c["id"] for c in api_as(scene.approvers["110000"]).get("/api/changes").json()] == [
        str(change.pk)
    ]
    filed = api_as(scene.receiver.registrar).get("/api/changes", {"box": "filed"}).json()
    assert [c["id"] for c in filed] == [str(change.pk)]


def test_refusals_are_json_and_scoped(scene):
    change = file_suspension(scene.sender, scene.child)
    url = f"/api/changes/{change.pk}"
    assert api_as(scene.nanshan.registrar).get(url).status_code == 404
    assert api_as(scene.approvers["440305"]).get(url).json()["code"] == "change_not_found"
    teacher = api_as(scene.class_teacher).get(url)
    assert teacher.status_code == 403 and teacher.json()["code"] == "forbidden"
    viewer = api_as(scene.shenzhen_viewer)
    assert viewer.get(url).status_code == 200
    # A viewer of the child's city, who may open the child's record, sees the name in full
    # (names_shown); it may not decide.
    assert viewer.get(url).json()["student_name"] == "张春铭"
    decide = viewer.post(f"{url}/bureau-decision", {"decision": "approve"})
    assert decide.status_code == 403
    other_registrar = api_as(scene.nanshan.registrar)
    assert (
        other_registrar.post(f"{url}/school-decision", {"decision": "approve"}).status_code == 404
    )
    assert other_registrar.post(f"{url}/withdraw", {}).status_code == 404
    assert api_as(scene.sender.principal).post(f"{url}/withdraw", {}).status_code == 403
    assert ChangeRequest.objects.get().state == ChangeState.PENDING
    anonymous = ApiClient(None).get(url)
    assert anonymous.status_code == 401 and anonymous.json()["code"]


def test_a_change_is_filed_and_withdrawn_by_its_school(scene):
    other = enrol(scene.nanshan, "王大山")
    api = api_as(scene.nanshan.registrar)
    filed = api.post(
        "/api/changes",
        {
            "student_id": str(other.pk),
            "kind": "suspend",
            "reason": "病休",
            "guardian_request": {"name": "申请书.pdf", "content_base64": PDF64},
        },
    )
    assert filed.status_code == 201, filed.content
    change_id = filed.json()["id"]
    assert filed.json()["steps"][1]["division_code"] == "440305"
    # A transfer goes through /transfers, not here.
    wrong = api.post(
        "/api/changes", {"student_id": str(other.pk), "kind": "transfer", "reason": "x"}
    )
    assert wrong.status_code == 422
    withdrawn = api.post(f"/api/changes/{change_id}/withdraw", {"reason": "家长改变主意"})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert Student.objects.get(pk=other.pk).state == RecordState.ENROLLED


def test_the_public_notice_masks_names_and_numbers(scene):
    change = approve_all(scene, file_transfer(scene, scene.child))
    on = change.effective_date.isoformat()
    response = api_as(scene.receiver.principal).get(
        f"/api/changes/notices/{scene.receiver.school.pk}", {"start": on, "end": on}
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["name"] for r in body["transfers_in"]] == ["张*铭"]
    assert body["transfers_out"] == []
    assert "张春铭" not in response.content.decode()
    assert not re.search(r"[GJL]\d{6}", response.content.decode())
    assert (
        api_as(scene.nanshan.registrar)
        .get(f"/api/changes/notices/{scene.receiver.school.pk}")
        .status_code
        == 404
    )
    assert change.steps.get(ordinal=6).state == StepState.APPROVED


def test_the_openapi_document_is_valid_and_lists_the_change_endpoints(client):
    from openapi_spec_validator import validate

    document = client.get("/api/openapi.json").json()
    validate(document)
    paths = set(document["paths"])
    assert {
        "/api/changes",
        "/api/changes/{change_id}",
        "/api/changes/transfers",
        "/api/changes/transfers/lookup",
        "/api/changes/{change_id}/school-decision",
        "/api/changes/{change_id}/bureau-decision",
        "/api/changes/{change_id}/withdraw",
        "/api/changes/notices/{school_id}",
    } <= paths
