"""The statistics API refuses a day to count on after today or before the statistics begin,
naming the parameter, and says so in its OpenAPI document (issue 20, item 6); it takes a bare
division or school code as the area, documented with its forms (issue 20, item 9)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from xueji.stats.dates import EARLIEST
from xueji.stats.tests.conftest import HORIZON
from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db

# The day after the tests' today (a later year, 2999, is not even a date the document allows:
# 422, as any malformed parameter).
AFTER = (HORIZON + datetime.timedelta(days=1)).isoformat()


def _refused(response, field, code="bad_date"):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert list(body["fields"]) == [field]
    return body["fields"][field][0]["message"]


@pytest.mark.parametrize("path", ["dashboard", "grade-age-sex", "breakdown", "areas"])
def test_a_day_after_today_is_refused_naming_the_date(small, path):
    client = api_as(small.users["guangdong_approver"], language="en")
    message = _refused(client.get(f"/api/stats/{path}", {"date": AFTER}), "date")
    assert message == f"The date cannot be after today ({HORIZON.isoformat()})."
    early = client.get(f"/api/stats/{path}", {"date": "1949-08-31"})
    assert "before 1949-09-01" in _refused(early, "date")
    assert client.get(f"/api/stats/{path}", {"date": EARLIEST.isoformat()}).status_code == 200
    malformed = client.get(f"/api/stats/{path}", {"date": "2999-01-01"})
    assert malformed.status_code == 422 and list(malformed.json()["fields"]) == ["date"]


def test_a_period_ending_after_today_is_refused_naming_its_end(small):
    client = api_as(small.users["guangdong_approver"], language="en")
    response = client.get("/api/stats/mobility", {"start": "2026-09-01", "end": AFTER})
    assert _refused(response, "end").startswith("The end of the period cannot be after today")
    response = client.get("/api/stats/mobility", {"start": "1900-01-01", "end": "1950-01-01"})
    assert "before 1949-09-01" in _refused(response, "start")


def test_the_document_says_the_bounds_of_the_days_and_the_forms_of_the_area(db):
    document = Client().get("/api/openapi.json").json()
    for path in ("dashboard", "grade-age-sex", "breakdown", "mobility", "areas"):
        parameters = {
            p["name"]: p for p in document["paths"][f"/api/stats/{path}"]["get"]["parameters"]
        }
        for name in {"date", "start", "end"} & set(parameters):
            assert "from 1949-09-01 to today" in parameters[name]["description"], (path, name)
        scope = parameters["scope"]
        for form in ("county:440304", "`440304`", "441900", "4403040001", "school:12"):
            assert form in scope["description"], form
        assert "|[0-9]{6}|[0-9]{10})$" in scope["schema"]["pattern"]


def test_a_bare_division_code_is_the_division_at_its_own_level(small):
    small.register(small.class_futian)
    client = api_as(small.users["guangdong_approver"], language="en")
    bare = client.get("/api/stats/grade-age-sex", {"scope": "440304", "date": "2026-10-20"})
    named = client.get("/api/stats/grade-age-sex", {"scope": "county:440304", "date": "2026-10-20"})
    assert bare.status_code == 200
    assert bare.json()["target"]["scope"] == "county:440304"
    assert bare.json()["tables"] == named.json()["tables"]
    for code, level in (("440300", "city"), ("440000", "province"), ("441900", "county")):
        target = client.get("/api/stats/target", {"scope": code}).json()
        assert target["scope"] == f"{level}:{code}" and target["level"] == level


def test_an_unknown_division_code_is_not_found_naming_it(small):
    client = api_as(small.users["guangdong_approver"], language="en")
    refused = client.get("/api/stats/target", {"scope": "440399"})
    assert refused.status_code == 404
    assert refused.json() == {"code": "unknown_code", "message": "No division has the code 440399."}


def test_a_division_outside_the_scope_is_not_found(small):
    client = api_as(small.users["futian_viewer"])
    assert client.get("/api/stats/target", {"scope": "440305"}).status_code == 404
    assert client.get("/api/stats/target", {"scope": "440304"}).status_code == 200


def test_a_school_code_is_the_school_and_one_outside_the_scope_is_not_found(small):
    client = api_as(small.users["futian_viewer"], language="en")
    target = client.get("/api/stats/target", {"scope": small.futian.code}).json()
    assert target["scope"] == f"school:{small.futian.pk}" and target["label"] == "福田一小"
    for code in (small.nanshan.code, "4403049999"):
        refused = client.get("/api/stats/target", {"scope": code})
        assert refused.status_code == 404
        # The same answer whether a school has the code or not.
        assert refused.json() == {
            "code": "unknown_code",
            "message": f"There is no school with the code {code} in your scope.",
        }
