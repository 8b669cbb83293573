"""The pages in Chinese for each role that uses them, with the charts' data and the Excel
exports."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from python_calamine import CalamineWorkbook

from xueji.welfare.models import AidApplication
from xueji.welfare.tests.test_aid import apply, approved_need, programme
from xueji.welfare.tests.test_funding import set_rates
from xueji.welfare.tests.test_meals import MONDAY, in_programme, record

pytestmark = pytest.mark.django_db


def client_of(user: Any) -> Client:
    client = Client(headers={"Accept-Language": "zh-hans"})
    client.force_login(user)
    return client


def test_funding_pages_and_the_excel_export(registry: Any) -> None:
    set_rates(registry)
    registry.register("a", 2)
    county = client_of(registry.approver)
    page = county.get("/welfare/funding/", {"term": registry.autumn.pk})
    text = page.content.decode()
    assert page.status_code == 200 and "生均公用经费" in text and "allocation-chart" in text
    assert "¥800.00" in text
    export = county.get("/welfare/funding/", {"term": registry.autumn.pk, "format": "xlsx"})
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(export.content)).get_sheet_by_index(0).to_python()
    )
    assert rows[1][0] == registry.schools["a"].code and rows[1][-1] == "800.00"
    assert county.get("/welfare/funding/flows/", {"term": registry.spring.pk}).status_code == 200
    assert "经费标准及历史" in county.get("/welfare/funding/rates/").content.decode()
    assert county.get("/welfare/funding/rates/new/").status_code == 403
    nation = client_of(registry.nation_approver)
    saved = nation.post(
        "/welfare/funding/rates/new/",
        {"province_code": "", "stage": "primary", "component": "benchmark", "yearly_yuan": "800.00",
         "valid_from": "2027-01-01", "note": "调整"},
    )  # fmt: skip
    assert saved.status_code == 302


def test_aid_pages_for_the_school_and_the_county(registry: Any) -> None:
    found = programme(registry)
    child = registry.register("a")[0]
    approved_need(registry, "a", child)
    school = client_of(registry.registrars["a"])
    assert "学生资助" in school.get("/welfare/aid/").content.decode()
    assert school.get(f"/welfare/aid/apply/{child.pk}/").status_code == 200
    apply(registry, "a", child, found)
    application = AidApplication.objects.get()
    county = client_of(registry.approver)
    confirm = county.post(f"/welfare/aid/applications/{application.pk}/", {"decision": "approve"})
    assert confirm.status_code == 200 and "全国范围内不能再次发放" in confirm.content.decode()
    done = county.post(
        f"/welfare/aid/applications/{application.pk}/", {"decision": "approve", "confirmed": "yes"}
    )
    assert done.status_code == 302
    assert AidApplication.objects.get().state == "approved"
    assert county.get("/welfare/aid/payments/", {"term": registry.autumn.pk}).status_code == 200
    assert county.get("/welfare/aid/entitled/").status_code == 200
    notice = school.get(f"/welfare/aid/notice/{registry.schools['a'].pk}/")
    assert notice.status_code == 200


def test_meal_pages_and_the_claim_export(registry: Any, attendance: Any) -> None:
    in_programme(registry)
    child = registry.register("a")[0]
    record(registry, "a", MONDAY)
    school = client_of(registry.registrars["a"])
    lookup = school.get(f"/welfare/meals/lookup/{child.pk}/", {"day": str(MONDAY)})
    assert "是，已用餐" in lookup.content.decode()
    week = school.get(f"/welfare/meals/week/{registry.schools['a'].pk}/", {"day": str(MONDAY)})
    assert "番茄炒蛋" in week.content.decode()
    export = school.get(
        f"/welfare/meals/claim/{registry.schools['a'].pk}/", {"month": "2026-09", "format": "xlsx"}
    )
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(export.content)).get_sheet_by_index(0).to_python()
    )
    assert rows[1][2] == 1 and rows[-1][4] == "5.00"
    assert child.name not in str(rows)
    county = client_of(registry.approver)
    assert county.get("/welfare/checks/").status_code == 200
    refreshed = county.post("/welfare/checks/run/", {"term": registry.autumn.pk})
    assert refreshed.status_code == 302
    export = county.get("/welfare/checks/", {"term": registry.autumn.pk, "format": "xlsx"})
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(export.content)).get_sheet_by_index(0)
    assert sheet.to_python()[0][0] == "类别"
