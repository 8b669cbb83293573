"""The statistics API: the same tables as the pages, suppression included, scope enforced."""

from __future__ import annotations

import datetime

import pytest

from xueji.core import codes
from xueji.stats.tests.world import transfer
from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled(small):
    for _ in range(6):
        small.register(small.class_futian)
    for _ in range(2):
        small.register(small.class_futian, sex=codes.Sex.FEMALE)
    moved = small.register(small.class_nanshan)
    transfer(moved, small.class_futian_b, datetime.date(2026, 10, 12))
    return small


def test_grade_age_sex_for_the_own_county(filled):
    response = api_as(filled.users["futian_viewer"], language="en").get(
        "/api/stats/grade-age-sex", {"date": "2026-10-20"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["target"]["scope"] == "county:440304" and body["target"]["exact"] is True
    table = body["tables"][0]
    assert table["key"] == "grade-age-sex" and table["definition"]
    assert table["columns"][0] == "Total"
    assert table["rows"][0] == {"label": "Grade 1", "total": False, "cells": [9, 9]}


def test_suppressed_cells_come_as_their_marks(filled):
    response = api_as(filled.users["nation_viewer"], language="en").get(
        "/api/stats/grade-age-sex", {"scope": "county:440304", "date": "2026-10-20"}
    )
    body = response.json()
    assert body["target"]["exact"] is False and "<5" in body["target"]["suppression"]
    girls = body["tables"][0]["rows"][2]
    assert girls["label"] == "Girls" and girls["cells"][0] == "<5"
    assert body["tables"][0]["suppressed"] is True


def test_a_county_cannot_read_another_countys_figures(filled):
    client = api_as(filled.users["futian_viewer"])
    for path in ["grade-age-sex", "breakdown", "dashboard", "annual", "mobility", "target"]:
        response = client.get(f"/api/stats/{path}", {"scope": "county:440305"})
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_bad_parameters_are_400_or_422(filled):
    client = api_as(filled.users["futian_viewer"])
    # A scope or a dimension the document's pattern refuses is malformed, named as its field.
    for path, query in (
        ("/api/stats/grade-age-sex", {"scope": "planet:1"}),
        ("/api/stats/breakdown", {"dimension": "shoe_size"}),
        ("/api/stats/grade-age-sex", {"date": "yesterday"}),
        ("/api/stats/dashboard", {"date": "0"}),
    ):
        refused = client.get(path, query)
        assert refused.status_code == 422, query
        assert refused.json()["code"] == "invalid_request" and set(refused.json()["fields"]) == set(
            query
        )


def test_breakdown_one_dimension_or_all(filled):
    client = api_as(filled.users["futian_viewer"], language="en")
    one = client.get("/api/stats/breakdown", {"dimension": "boarding", "date": "2026-10-20"}).json()
    assert [t["key"] for t in one["tables"]] == ["boarding"]
    every = client.get("/api/stats/breakdown", {"date": "2026-10-20"}).json()
    assert len(every["tables"]) == 7


def test_dashboard_annual_mobility_and_target(filled):
    client = api_as(filled.users["guangdong_approver"], language="en")
    dashboard = client.get("/api/stats/dashboard", {"scope": "county:440304", "date": "2026-10-14"})
    figures = {
        f["key"]: f["value"] for f in dashboard.json()["figures"] + dashboard.json()["movement"]
    }
    assert figures["on_roll"] == 9 and figures["transfers_in"] == 1
    annual = client.get("/api/stats/annual", {"scope": "county:440304", "year": 2026}).json()
    assert annual["census_date"] == "2026-09-30"
    assert {t["key"] for t in annual["tables"]} >= {
        "annual-primary",
        "annual-flows",
        "annual-cohorts",
    }
    mobility = client.get(
        "/api/stats/mobility", {"start": "2026-09-01", "end": "2026-12-31"}
    ).json()
    assert mobility["level"] == "county"
    assert mobility["links"] == [{"origin": "南山区", "destination": "福田区", "children": 1}]
    target = client.get("/api/stats/target").json()
    assert target["scope"] == "province:440000"
    assert {"label": "深圳市", "scope": "city:440300"} in target["children"]


def test_a_role_without_head_counts_is_forbidden(filled):
    response = api_as(filled.users["subject_teacher"]).get("/api/stats/dashboard")
    assert response.status_code == 403
