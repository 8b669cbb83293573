"""The API refuses a run outside the promotion period unless the request says
`confirm_outside_period: true`, and names the period (issue 20, item 11)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from xueji.testing.api import api_as
from xueji.yearend.models import RunState, YearEndRun
from xueji.yearend.periods import DEFAULT_PROMOTION_PERIODS

from ..conftest import FROM_YEAR

pytestmark = pytest.mark.django_db


@pytest.fixture
def december(settings, monkeypatch):
    settings.XUEJI_YEAREND_PROMOTION_PERIODS = DEFAULT_PROMOTION_PERIODS
    day = datetime.date(FROM_YEAR, 12, 6)
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: day)


def test_a_graduation_in_december_is_refused_until_confirmed(registry, december):
    county = api_as(registry.approver, language="en")
    plan = {"kind": "graduate", "scope": registry.primaries[0].code, "from_year": FROM_YEAR}
    refused = county.post("/api/yearend/runs", plan)
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "outside_promotion_period"
    assert "the nation: 6/1 to 9/30" in body["message"]
    assert list(body["fields"]) == ["confirm_outside_period"]
    assert body["details"]["periods"] == [{"where": "the nation", "from": "06-01", "to": "09-30"}]
    assert not YearEndRun.objects.exists()

    planned = county.post("/api/yearend/runs", {**plan, "confirm_outside_period": True})
    assert planned.status_code == 201
    run_id = planned.json()["id"]
    refused = county.post(f"/api/yearend/runs/{run_id}/start", {})
    assert refused.status_code == 400 and refused.json()["code"] == "outside_promotion_period"
    assert YearEndRun.objects.get().state == RunState.PLANNED
    started = county.post(f"/api/yearend/runs/{run_id}/start", {"confirm_outside_period": True})
    assert started.status_code == 202
    assert YearEndRun.objects.get().state == RunState.RUNNING


def test_the_confirmation_is_in_the_openapi_document(registry):
    document = api_as(registry.approver).get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "confirm_outside_period" in schemas["PlanIn"]["properties"]
    assert "confirm_outside_period" in schemas["StartIn"]["properties"]
