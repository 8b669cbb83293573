"""The REST API: the funding allocation and rates, aid from need to the bank's result imported
twice, the meals lookup, and the findings with their children masked."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client

from xueji.testing.api import api_as
from xueji.welfare.models import AidPayment, FindingKind
from xueji.welfare.tests.test_aid import ACCOUNT, approved_need, guardian, programme
from xueji.welfare.tests.test_funding import set_rates
from xueji.welfare.tests.test_meals import MONDAY, in_programme, record

pytestmark = pytest.mark.django_db


def test_allocation_and_rates_in_the_api(registry: Any) -> None:
    set_rates(registry)
    registry.register("a", 2)
    registry.register("c", 1)
    futian = api_as(registry.approver, language="en")
    body = futian.get("/api/welfare/funding/allocation", {"term_id": registry.autumn.pk}).json()
    assert body["pupils"] == 2 and body["amount_fen"] == 80000
    assert [c["code"] for c in body["counties"]] == ["440304"]
    nation = api_as(registry.nation_approver, language="en")
    assert (
        nation.get("/api/welfare/funding/allocation", {"term_id": registry.autumn.pk}).json()[
            "pupils"
        ]
        == 3
    )
    created = nation.post(
        "/api/welfare/funding/rates",
        {
            "stage": "primary",
            "component": "benchmark",
            "yearly_fen": 80000,
            "valid_from": "2027-01-01",
        },
    )
    assert created.status_code == 201, created.content
    refused = futian.post(
        "/api/welfare/funding/rates",
        {"stage": "primary", "component": "benchmark", "yearly_fen": 1, "valid_from": "2027-01-01"},
    )
    assert refused.status_code == 403
    assert len(futian.get("/api/welfare/funding/rates").json()) == 5


def test_aid_through_the_api_and_a_result_file_loaded_twice(registry: Any) -> None:
    found = programme(registry)
    child = registry.register("a")[0]
    approved_need(registry, "a", child)
    school = api_as(registry.registrars["a"], language="en")
    filed = school.post(
        "/api/welfare/aid/applications",
        {
            "student_id": str(child.pk), "programme_id": found.pk, "term_id": registry.autumn.pk,
            "evidence": "低保证", "payee_id": str(guardian(child).pk), "account": ACCOUNT,
        },
    )  # fmt: skip
    assert filed.status_code == 201, filed.content
    assert filed.json()["account_masked"].endswith("0123") and ACCOUNT not in filed.text
    county = api_as(registry.approver, language="en")
    decided = county.post(
        f"/api/welfare/aid/applications/{filed.json()['id']}/decide", {"decision": "approve"}
    )
    assert decided.status_code == 200 and decided.json()["state"] == "approved"
    body = {"programme_id": found.pk, "term_id": registry.autumn.pk}
    assert county.post("/api/welfare/aid/payments", body).json() == {"count": 1}
    bank = county.post("/api/welfare/aid/bank-file", body)
    assert bank.status_code == 200 and ACCOUNT in bank.content.decode("utf-8-sig")
    payment = AidPayment.objects.get()
    result = f"付款编号,结果,银行流水号,日期,金额(元)\r\n{payment.pk},成功,B1,2026-10-20,625.00\r\n"
    client = Client()
    client.force_login(registry.approver)
    from django.core.files.uploadedfile import SimpleUploadedFile

    for expected in ({"changed": 1, "unchanged": 0}, {"changed": 0, "unchanged": 1}):
        upload = SimpleUploadedFile("result.csv", result.encode("utf-8-sig"))
        loaded = client.post("/api/welfare/aid/bank-results", {"file": upload})
        assert loaded.json() == expected
    bad = SimpleUploadedFile("result.csv", "付款编号,结果\r\nx,y\r\n".encode())
    refused = client.post(
        "/api/welfare/aid/bank-results", {"file": bad}, headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "missing_columns"
    assert refused.json()["details"]["errors"][0]["message_en"].startswith("The column")
    payments = county.get("/api/welfare/aid/payments").json()
    assert payments[0]["state"] == "paid" and "*" in payments[0]["student_name"]
    assert school.get(f"/api/welfare/students/{child.pk}/aid").json()[0]["amount_fen"] == 62500
    # Another county sees nothing of it.
    nanshan = api_as(registry.nanshan_approver, language="en")
    assert nanshan.get(f"/api/welfare/students/{child.pk}/aid").status_code == 404


def test_meal_lookup_and_findings_in_the_api(registry: Any, attendance: Any) -> None:
    in_programme(registry)
    here, absent = registry.register("a", 2)
    record(registry, "a", MONDAY, student_ids=[here.pk, absent.pk])
    attendance.absent[(registry.classes["a"].pk, MONDAY)] = {absent.pk}
    viewer = api_as(registry.approver, language="en")
    ate = viewer.get(f"/api/welfare/students/{here.pk}/meals", {"day": str(MONDAY)}).json()
    assert ate["ate"] is True and "番茄" in ate["menu"]
    run = viewer.post("/api/welfare/checks/run", {"term_id": registry.autumn.pk})
    assert run.json()["findings"] == 1
    findings = viewer.get("/api/welfare/findings", {"kind": FindingKind.MEAL_ABSENT}).json()
    detail = viewer.get(f"/api/welfare/findings/{findings[0]['id']}").json()
    assert detail["students"][0]["name"] != absent.name and "*" in detail["students"][0]["name"]
    explained = viewer.post(
        f"/api/welfare/findings/{findings[0]['id']}/explain", {"reason": "考勤有误"}
    )
    assert explained.json()["explanation"] == "考勤有误"
    week = viewer.get(
        f"/api/welfare/meals/schools/{registry.schools['a'].pk}/week", {"day": str(MONDAY)}
    )
    assert week.json()[0]["companions"] == "王老师、李校长"
    claim = viewer.get(
        f"/api/welfare/meals/schools/{registry.schools['a'].pk}/claim", {"year": 2026, "month": 9}
    ).json()
    assert claim["meals"] == 2 and claim["amount_fen"] == 1000
    assert datetime.date(2026, 9, 7) == MONDAY
