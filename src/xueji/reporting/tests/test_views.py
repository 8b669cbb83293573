"""The pages: a round through them as the registrar, the principal, the county, the city and the
province; the return and the resubmission; the cell's breakdown; the export; the API."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from xueji.reporting.models import UnitState
from xueji.testing.api import api_as

from .conftest import CENSUS, DEADLINES, Province

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(user: Any, name: str, unit_id: int, **data: Any) -> Any:
    return _client(user).post(
        reverse(f"reporting:{name}", args=[unit_id]), {"confirm": "on", **data}
    )


def test_pages_through_a_round(province: Province) -> None:
    opener = _client(province.users["province"])
    form = {
        "title": "2026秋季",
        "census_date": CENSUS.isoformat(),
        "tables": ["grade_age_sex", "ethnicity", "movement", "annual"],
        "threshold_percent": 10,
        **{f"deadline_{k}": v.isoformat() for k, v in DEADLINES.items()},
    }
    response = opener.post(reverse("reporting:open"), form)
    assert response.status_code == 302
    page = opener.get(reverse("reporting:index")).content.decode()
    assert "2026秋季" in page

    a = province.unit(_round(), province.a)
    registrar = province.users[f"registrar_{province.a.code}"]
    principal = province.users[f"principal_{province.a.code}"]
    page = _client(registrar).get(reverse("reporting:unit", args=[a.pk])).content.decode()
    assert "prepare-form" in page and "confirm-form" not in page
    # Without ticking the box nothing happens.
    _client(registrar).post(reverse("reporting:prepare", args=[a.pk]))
    a.refresh_from_db()
    assert a.state == UnitState.NOT_STARTED
    _post(registrar, "prepare", a.pk)
    a.refresh_from_db()
    assert a.state == UnitState.PREPARED
    page = _client(principal).get(reverse("reporting:unit", args=[a.pk])).content.decode()
    assert "confirm-form" in page
    assert "张*铭" in page  # the changes since the previous report, by child, masked
    _post(principal, "confirm", a.pk)
    a.refresh_from_db()
    assert a.state == UnitState.CONFIRMED

    county = province.users["futian"]
    futian = a.parent
    page = _client(county).get(reverse("reporting:unit", args=[futian.pk])).content.decode()
    assert "福田第一小学" in page and "福田第二小学" in page
    assert 'id="units-sum">3<' in page
    _post(county, "return", a.pk, reason="2班人数不对")
    a.refresh_from_db()
    assert a.state == UnitState.RETURNED
    page = _client(principal).get(reverse("reporting:unit", args=[a.pk])).content.decode()
    assert "2班人数不对" in page

    # The cell's breakdown names the classes and children behind it.
    cell = _client(county).get(
        reverse("reporting:cell", args=[a.pk]), {"table": "grade_age_sex", "grade": 1, "age": 6}
    )
    assert cell.status_code == 200
    body = cell.content.decode()
    assert "1班" in body and "2班" in body

    checks = _client(county).get(reverse("reporting:checks", args=[futian.pk]))
    assert checks.status_code == 200

    export = _client(county).get(reverse("reporting:export", args=[a.pk]))
    assert export.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(export.content))
    assert len(book.sheet_names) == 5  # the report's sheet and one per table
    first = book.get_sheet_by_index(0).to_python()
    assert ["状态", "已退回"] in [row[:2] for row in first]


def _round() -> Any:
    from xueji.reporting.models import ReportRound

    return ReportRound.objects.get()


def test_the_api_walks_a_school_report(province: Province) -> None:
    report_round = province.open_round()
    a = province.unit(report_round, province.a)
    registrar = api_as(province.users[f"registrar_{province.a.code}"], language="en")
    answer = registrar.post(f"/api/reporting/units/{a.pk}/prepare", {})
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "prepared"
    principal = api_as(province.users[f"principal_{province.a.code}"], language="en")
    assert principal.post(f"/api/reporting/units/{a.pk}/confirm", {}).json()["state"] == "confirmed"
    county = api_as(province.users["futian"], language="en")
    refused = county.post(f"/api/reporting/units/{a.parent_id}/confirm", {})
    assert refused.status_code == 409
    assert refused.json()["code"] == "units_not_confirmed"
    shown = county.get(f"/api/reporting/units/{a.parent_id}").json()
    states = {u["name"]: u["state"] for u in shown["units"]}
    assert states == {"福田第一小学": "confirmed", "福田第二小学": "not_started"}
    assert county.get(f"/api/reporting/units/{a.pk}/checks").status_code == 200
    other = api_as(province.users["nanshan"], language="en")
    assert other.get(f"/api/reporting/units/{a.pk}").status_code == 404
