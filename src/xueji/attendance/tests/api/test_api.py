"""The API: a card system posts the same roll twice (nothing changes the second time), reads it
back; the county logs a step and cannot close a case as lost contact; the rates."""

import pytest

from xueji.attendance.models import Absence, DropoutCase, RollCall
from xueji.attendance.tests.conftest import MON
from xueji.attendance.tests.matrix_objects import case as case_of
from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db


def test_the_same_roll_twice_through_the_api(att):
    a = att["pupils"][0]
    client = api_as(att["registrar"], language="en")
    url = f"/api/attendance/classes/{att['class'].pk}/roll"
    body = {
        "day": MON.isoformat(),
        "absences": [{"student_id": str(a.pk), "reason": "sick", "symptom": "fever"}],
    }
    first = client.post(url, body)
    assert first.status_code == 200, first.content
    assert first.json()["changed"] and first.json()["absent"] == 1
    second = client.post(url, body)
    assert second.status_code == 200 and not second.json()["changed"]
    assert RollCall.objects.count() == 1 and Absence.objects.count() == 1
    sheet = client.get(url, {"day": MON.isoformat()}).json()
    assert sheet["taken"] and {c["id"] for c in sheet["children"] if c["reason"]} == {str(a.pk)}
    # Another school's registrar does not find the class.
    from xueji.access.models import Role
    from xueji.testing.factories import SchoolFactory, member

    stranger = api_as(member(Role.REGISTRAR, school=SchoolFactory()), language="en")
    assert stranger.post(url, body).status_code == 404


def test_cases_through_the_api(att):
    class Place:
        student = att["pupils"][0]
        school = att["school"]
        county = att["county"]

    case = case_of(Place)
    county = api_as(att["approver"], language="en")
    assert (
        county.post(f"/api/attendance/cases/{case.pk}/close", {"end": "lost_contact"}).status_code
        == 400
    )
    step = county.post(
        f"/api/attendance/cases/{case.pk}/steps", {"kind": "call", "outcome": "lost_contact"}
    )
    assert step.status_code == 200 and step.json()["state"] == "lost_contact"
    assert step.json()["level"] == "county"
    DropoutCase.objects.get(pk=case.pk)
    listed = county.get("/api/attendance/cases", {"state": "open"}).json()
    assert [c["id"] for c in listed] == [str(case.pk)]
    rates = county.get("/api/attendance/rates", {"county": "440304", "on": MON.isoformat()})
    assert rates.status_code == 200 and rates.json()["enrolled"] == 5
    assert rates.json()["consolidation_note"] == "nine_years"
