"""Every error under /api/ is JSON in the error shape, whoever answers it: a path no route takes
(a malformed id in it), a method the path does not take; and the API refuses what django-ninja
and pydantic would read loosely: a parameter given twice, a body that is not an object, a date
as a number."""

import pytest
from django.test import Client

from xueji.testing.api import World, api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/students/not-a-uuid"),
        ("post", "/api/students/not-a-uuid/reveal"),
        ("get", "/api/schools/abc"),
        ("get", "/api/classes/1.5"),
        ("get", "/api/changes/notices/-1"),
        ("get", "/api/nothing/here"),
    ],
)
def test_a_path_no_route_takes_is_a_json_404(world, settings, debug, method, path):
    settings.DEBUG = debug
    client = api_as(world.registrar_a, language="en")
    response = getattr(client, method)(path) if method == "get" else client.post(path, {})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "not_found", "message": "Nothing is found here."}


def test_a_method_the_path_does_not_take_is_a_json_405_naming_the_methods(world):
    token = api_as(world.registrar_a).raw
    response = Client().delete("/api/students", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}


def test_pages_keep_their_html_404(world):
    response = Client().get("/nothing/here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_parameter_given_twice_is_refused_naming_it(world):
    client = api_as(world.registrar_a, language="en")
    refused = client.client.get("/api/schools?kind=primary&kind=junior", headers=client._headers())
    assert refused.status_code == 422
    assert refused.json()["fields"] == {
        "kind": [{"code": "repeated", "message": "Give this parameter only once."}]
    }
    # A parameter the operation does not declare is ignored, given twice or not.
    assert client.client.get("/api/schools?x=1&x=2", headers=client._headers()).status_code == 200


@pytest.mark.parametrize("body", ["4597", "[]", '"text"', "null"])
def test_a_json_body_that_is_not_an_object_is_refused(world, body):
    # django-ninja read it as an empty object, and answered as if the fields were left out.
    client = api_as(world.registrar_a, language="en")
    refused = client.post(f"/api/students/{world.student_a.pk}/resident-id", body)
    assert refused.status_code == 400
    assert refused.json() == {
        "code": "body_not_object",
        "message": "The body must be a JSON object.",
    }


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/stats/dashboard", {"date": "0"}),
        ("/api/stats/mobility", {"start": "0"}),
        ("/api/stats/mobility", {"end": "1700000000"}),
        ("/api/audit/entries", {"until": "0"}),
        ("/api/stats/dashboard", {"date": "0001-01-01"}),
        ("/api/stats/dashboard", {"date": "2026-1-5"}),
        ("/api/stats/annual", {"year": "0"}),
        ("/api/stats/annual", {"year": "true"}),
        ("/api/stats/target", {"scope": "county:44030"}),
        ("/api/stats/target", {"scope": "school:0"}),
        ("/api/stats/target", {"scope": "grade:12:13"}),
        ("/api/stats/target", {"scope": " nation"}),
        ("/api/schools", {"division": "44"}),
        ("/api/schools", {"kind": "castle"}),
        ("/api/schools", {"offset": str(2**63)}),
        ("/api/divisions", {"level": "village"}),
        ("/api/imports/", {"offset": str(2**63)}),
        ("/api/changes/notices/1", {"start": "0"}),
    ],
)
def test_a_value_the_document_refuses_is_a_422_naming_it(world, path, query):
    client = api_as(world.futian_bureau, language="en")
    refused = client.get(path, query)
    assert refused.status_code == 422, refused.content
    assert refused.json()["code"] == "invalid_request"
    assert set(refused.json()["fields"]) == set(query)


@pytest.mark.parametrize(
    "scope", ["nation", "county:440304", "city:440300", "province:440000", "grade:1:-2"]
)
def test_a_scope_of_the_documented_forms_is_read(world, scope):
    # Inside the caller's area it is answered; outside it, or no such area, 404 (never 400).
    response = api_as(world.futian_bureau).get("/api/stats/target", {"scope": scope})
    assert response.status_code in (200, 404)
    assert response.json().get("code") != "bad_scope"


@pytest.mark.parametrize(
    ("method", "path", "payload", "field"),
    [
        # PostgreSQL stores no NUL in text: each was a 500 there.
        (
            "post",
            "/api/accounts/",
            {"login_name": "a", "name": "b", "role": "principal", "school_code": "\x00"},
            "school_code",
        ),
        ("post", "/api/students/lookup", {"number": "G\x00"}, "number"),
        ("get", "/api/students", {"q": "张\x00"}, "q"),
        ("get", "/api/imports/", {"school": "\x00"}, "school"),
    ],
)
def test_text_with_a_nul_character_is_refused_naming_the_field(world, method, path, payload, field):
    client = api_as(world.futian_bureau, language="en")
    refused = client.get(path, payload) if method == "get" else client.post(path, payload)
    assert refused.status_code == 400, refused.content
    assert refused.json()["fields"] == {
        field: [{"code": "nul_character", "message": "Text cannot hold a NUL character (U+0000)."}]
    }


# ---- the probe's server errors (issue 18, item 6), each asked as the probe asked it ----------


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        # 500 on both databases: a year past the date's range.
        ("/api/yearend/dropouts", {"from_year": "99999"}, "from_year"),
        # 500 on SQLite: integers past its 64 bits.
        ("/api/students", {"school": "99999999999999999999"}, "school"),
        ("/api/students", {"class_id": "14677669744231575552"}, "class_id"),
    ],
)
def test_the_probes_server_errors_are_422s_naming_the_parameter(world, path, query, field):
    user = world.futian_bureau if path.startswith("/api/yearend") else world.registrar_a
    refused = api_as(user, language="en").get(path, query)
    assert refused.status_code == 422, refused.content
    assert refused["Content-Type"].startswith("application/json")
    assert refused.json()["code"] == "invalid_request"
    assert set(refused.json()["fields"]) == {field}


def test_a_multipart_upload_without_its_boundary_is_a_json_400(world):
    client = api_as(world.registrar_a, language="en")
    for content_type in ("multipart/form-data", "multipart/form-data; boundary="):
        refused = client.client.post(
            "/api/imports/",
            b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--x--\r\n',
            content_type=content_type,
            headers=client._headers(),
        )
        assert refused.status_code == 400, refused.content
        assert refused["Content-Type"].startswith("application/json")
        assert refused.json()["code"] == "bad_request"
