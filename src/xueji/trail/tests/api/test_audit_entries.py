"""GET /api/audit/entries and POST /api/audit/entries/search: the auditors' search over the API."""

import pytest

from xueji.audit.models import AuditEntry
from xueji.audit.services import audit_record
from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db


def test_an_auditor_searches_the_area_over_the_api(world):
    response = api_as(world.nanshan_auditor).get(
        "/api/audit/entries", {"action": "student.register"}
    )
    assert response.status_code == 200
    body = response.json()
    [entry] = body["entries"]
    assert entry["object_id"] == str(world.student_c.pk)
    assert entry["actor"] == world.registrar_c.username
    assert entry["actor_role"] == "registrar"
    assert len(entry["hash"]) == 64
    assert body["older"] is None and body["newer"] is None


def test_filters_and_pages(world):
    for number in range(5):
        audit_record(actor=world.auditor, action="test.paged", detail={"n": number})
    api = api_as(world.auditor)
    first = api.get("/api/audit/entries", {"action": "test.", "limit": 2}).json()
    assert [e["detail"]["n"] for e in first["entries"]] == [4, 3]
    second = api.get(
        "/api/audit/entries", {"action": "test.", "limit": 2, "before": first["older"]}
    ).json()
    assert [e["detail"]["n"] for e in second["entries"]] == [2, 1]
    by_student = api.post(
        "/api/audit/entries/search", {"student": world.student_a.reveal_student_number()}
    ).json()
    assert by_student["student_id"] == str(world.student_a.pk)
    assert {e["object_id"] for e in by_student["entries"]} == {str(world.student_a.pk)}
    by_id = api.get("/api/audit/entries", {"student": str(world.student_a.pk)}).json()
    assert by_id["entries"] == by_student["entries"]


@pytest.mark.parametrize(
    "query",
    [
        {"student": "{number}"},
        {"student": "G{number}"},
        {"user": "{number}"},
        {"{number}": "1"},
        {"action": "student. {spaced}"},
    ],
)
def test_a_student_or_id_number_in_the_address_is_refused_saying_how_to_search(world, query):
    """Addresses are kept in access logs (issue 18, item 5): the number goes in a POST body."""
    number = world.student_a.reveal_id_number()
    spaced = f"{number[:6]} {number[6:14]}-{number[14:]}"
    sent = {
        key.format(number=number): value.format(number=number, spaced=spaced)
        for key, value in query.items()
    }
    refused = api_as(world.auditor, language="en").get("/api/audit/entries", sent)
    assert refused.status_code == 400
    assert refused.json()["code"] == "number_in_query"
    assert "POST /api/audit/entries/search" in refused.json()["message"]
    assert (
        api_as(world.auditor, language="zh-hans")
        .get("/api/audit/entries", sent)
        .json()["message"]
        .startswith("学籍号或身份证件号不能放在网址中")
    )


def test_bad_parameters_are_refused_with_fields(world):
    response = api_as(world.auditor).get("/api/audit/entries", {"since": "yesterday"})
    assert response.status_code == 422
    assert "since" in response.json()["fields"]


@pytest.mark.parametrize("who", ["registrar_a", "futian_bureau", "nation", "admin", "nobody"])
def test_everyone_else_gets_403_and_is_recorded(world, who):
    user = getattr(world, who)
    response = api_as(user).get("/api/audit/entries")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    refusal = AuditEntry.objects.filter(action="access.denied").get()
    assert refusal.actor == user
    assert refusal.detail["path"] == "/api/audit/entries"


def test_the_endpoint_is_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").json()
    assert "/api/audit/entries" in document["paths"]
    assert "post" in document["paths"]["/api/audit/entries/search"]
