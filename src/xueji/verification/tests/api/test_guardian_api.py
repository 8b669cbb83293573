"""The API of the guardians' record check sheets (issue 19), as their pages: the registrar reads
the classes' sheets returned, records a sheet as confirmed, or with its corrections (other
information and family contacts at once; key data as a correction request with the scanned
sheet), all or nothing with every bad field named; another school's child does not exist for it
and no other role records sheets."""

import base64

import pytest

from xueji.audit.models import AuditEntry
from xueji.core import codes
from xueji.corrections.models import CorrectionRequest
from xueji.corrections.tests.files import PDF
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolFactory, member
from xueji.verification.models import GuardianCheck

pytestmark = pytest.mark.django_db


def url(student):
    return f"/api/verification/students/{student.pk}/guardian-check"


def test_sheets_are_recorded_confirmed_or_corrected(school):
    api = api_as(school["registrar"], language="en")
    pupil = school["pupil"]
    dad = pupil.family.get(relation=codes.Relation.FATHER)

    confirmed = api.post(url(pupil), {"outcome": "confirmed", "signed_by": "张伟"})
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["outcome"] == "confirmed"
    listed = api.get("/api/verification/guardian-sheets").json()
    mine = next(c for c in listed["classes"] if c["class_id"] == school["mine"].pk)
    assert (mine["students"], mine["confirmed"], mine["waiting"]) == (1, 1, 0)

    # Every bad field at once, nothing written.
    refused = api.post(
        url(pupil),
        {
            "outcome": "corrected",
            "other": {"address": "新地址"},
            "contacts": {str(dad.ordinal): {"phone": "not a phone"}},
            "basic": {"name": "张春明"},
        },
    )
    assert refused.status_code == 400
    assert {f"family-{dad.ordinal}-phone", "reason", "evidence"} <= set(refused.json()["fields"])
    pupil.refresh_from_db()
    assert pupil.address == "" and GuardianCheck.objects.count() == 1

    corrected = api.post(
        url(pupil),
        {
            "outcome": "corrected",
            "other": {"address": "福田区莲花路1号"},
            "contacts": {str(dad.ordinal): {"phone": "13900139000", "employer": "深圳地铁"}},
            "basic": {"name": "张春明"},
            "reason": "监护人在核对表上更正姓名（户口簿）",
            "evidence": [{"name": "核对表.pdf", "content_base64": base64.b64encode(PDF).decode()}],
        },
    )
    assert corrected.status_code == 201, corrected.content
    body = corrected.json()
    assert body["outcome"] == "corrected" and "address" in body["changed_fields"]
    correction = CorrectionRequest.objects.get(student=pupil)
    assert body["correction_id"] == str(correction.pk)
    pupil.refresh_from_db()
    assert pupil.address == "福田区莲花路1号" and pupil.name == "张春铭"
    assert AuditEntry.objects.filter(action="guardian_check.corrected").count() == 1


def test_only_the_school_s_registrar_records_sheets(school):
    from xueji.access.models import Role

    pupil = school["pupil"]
    stranger = api_as(member(Role.REGISTRAR, school=SchoolFactory()))
    assert stranger.post(url(pupil), {"outcome": "confirmed"}).status_code == 404
    for refused in (school["principal"], school["teacher"], school["approver"]):
        client = api_as(refused)
        assert client.post(url(pupil), {"outcome": "confirmed"}).status_code == 403
        assert client.get("/api/verification/guardian-sheets").status_code == 403
    assert not GuardianCheck.objects.exists()
