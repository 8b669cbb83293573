"""Filing a transfer is no door around the look-up's limit. A complete filing (a class of the
school, the guardian's request) for another school's child who is suspended, already in a change
or not on roll is refused (409) in words that tell the child exists, and one for no child at all
is answered 404: each is a look-up, audited and counted with the registrar's others, and beyond
the hour's limit both are 429 alike. The name is compared as registration compares it."""

import base64

import pytest
from django.db import transaction

from xueji.access.lookups import (
    LOOKUP_ACTION,
    LOOKUP_REFUSED_ACTION,
    LookupKind,
    LookupOutcome,
    lookup_answer,
)
from xueji.audit.models import AuditEntry
from xueji.changes.models import ChangeRequest
from xueji.changes.tests.views.scenario import YEAR, approve_all, enrol, file_suspension
from xueji.corrections.tests.files import PDF
from xueji.students.models import RecordState
from xueji.students.record import record_state_set
from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db

URL = "/api/changes/transfers"
PDF64 = base64.b64encode(PDF).decode()
NO_SUCH_NUMBER = "G110101201803050011"


def _file(scene, number, name="张春铭", site=None, language="en"):
    site = site or scene.receiver
    return api_as(site.registrar, language=language).post(
        URL,
        {
            "student_number": number,
            "name": name,
            "to_class_id": site.klass(2, 1, YEAR).pk,
            "reason": "随父母工作调动",
            "guardian_request": {"name": "申请书.pdf", "content_base64": PDF64},
        },
    )


def _entries(user, action=LOOKUP_ACTION):
    return list(AuditEntry.objects.filter(actor=user, action=action).order_by("id"))


def _suspended(scene):
    approve_all(scene, file_suspension(scene.sender, scene.child))
    scene.child.refresh_from_db()
    assert scene.child.state == RecordState.SUSPENDED


def _in_a_change(scene):
    file_suspension(scene.sender, scene.child)


def _not_on_roll(scene):
    with transaction.atomic():
        record_state_set(
            actor=scene.sender.registrar, student=scene.child, state=RecordState.DROPPED_OUT
        )


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (_suspended, "student_suspended"),
        (_in_a_change, "change_active"),
        (_not_on_roll, "not_on_roll"),
    ],
)
def test_a_refused_complete_filing_is_an_audited_lookup_of_the_child(scene, make, code):
    make(scene)
    number = scene.child.reveal_student_number()
    response = _file(scene, number)
    assert response.status_code == 409 and response.json()["code"] == code
    [entry] = _entries(scene.receiver.registrar)
    assert entry.object_type == "student" and entry.object_id == scene.child.pk
    assert entry.detail["kind"] == "transfer_filing" and entry.detail["outcome"] == "refused"
    assert entry.detail["refusal"] == code
    assert entry.detail["student_number"] == scene.child.number_masked
    assert number[1:] not in str(entry.detail)
    assert not ChangeRequest.objects.filter(to_school=scene.receiver.school).exists()


def test_a_complete_filing_for_no_child_is_an_audited_lookup_too(scene):
    response = _file(scene, NO_SUCH_NUMBER)
    assert response.status_code == 404 and response.json()["code"] == "student_not_found"
    [entry] = _entries(scene.receiver.registrar)
    assert entry.detail["kind"] == "transfer_filing" and entry.detail["outcome"] == "not_found"
    assert entry.object_id is None and "*" in entry.detail["student_number"]


def test_beyond_the_limit_a_filing_answers_429_whether_the_child_exists_or_not(scene, settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 1
    registrar = scene.receiver.registrar
    lookup_answer(actor=registrar, kind=LookupKind.TRANSFER, outcome=LookupOutcome.NOT_FOUND)
    _suspended(scene)
    answers = []
    for number in (scene.child.reveal_student_number(), NO_SUCH_NUMBER):
        response = _file(scene, number)
        answers.append((response.status_code, response.json()["code"]))
        assert "suspended" not in response.content.decode()
    assert answers == [(429, "lookup_limit_reached")] * 2
    assert len(_entries(registrar)) == 1
    refusals = _entries(registrar, LOOKUP_REFUSED_ACTION)
    assert [r.detail["kind"] for r in refusals] == ["transfer_filing"] * 2
    chinese = _file(scene, NO_SUCH_NUMBER, language="zh-hans")
    assert chinese.status_code == 429 and "每小时最多查询 1 次" in chinese.json()["message"]


def test_a_filing_that_goes_through_and_the_schools_own_child_are_no_lookups(scene):
    own = _file(scene, scene.child.reveal_student_number(), site=scene.sender)
    assert own.status_code == 409 and own.json()["code"] == "same_school"
    filed = _file(scene, scene.child.reveal_student_number(), name="張春銘")
    assert filed.status_code == 201, filed.content
    assert not AuditEntry.objects.filter(action__startswith="student.lookup").exists()


def test_the_openapi_document_lists_the_429_of_a_filing(scene):
    paths = api_as(scene.receiver.registrar).get("/api/openapi.json").json()["paths"]
    assert "429" in paths[URL]["post"]["responses"]


@pytest.mark.parametrize(
    ("recorded", "typed"),
    [
        ("张春铭", "張春銘"),  # traditional characters
        ("阿依古丽·买买提", "阿依古丽•买买提"),  # another middle dot
        ("阿依古丽·买买提", "阿依古丽买买提"),  # none
        ("阿依古丽·买买提", " 阿依古丽 · 买买提 "),
    ],
)
def test_the_lookup_folds_the_name_as_registration_does(scene, recorded, typed):
    child = scene.child if recorded == "张春铭" else enrol(scene.sender, recorded)
    api = api_as(scene.receiver.registrar)
    found = api.post(
        URL + "/lookup", {"student_number": child.reveal_student_number(), "name": typed}
    )
    assert found.status_code == 200, found.content
    assert found.json()["school_name"] == scene.sender.school.name
    [entry] = _entries(scene.receiver.registrar)
    assert entry.object_id == child.pk and entry.detail["outcome"] == "found"


def test_a_folded_name_still_has_to_be_the_records(scene):
    enrol(scene.sender, "阿依古丽·买买提")
    api = api_as(scene.receiver.registrar)
    for other in ("阿依古丽", "张春明", "张春铭铭"):
        response = api.post(
            URL + "/lookup",
            {"student_number": scene.child.reveal_student_number(), "name": other},
        )
        assert response.status_code == 404, other
