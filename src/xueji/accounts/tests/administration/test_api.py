"""/api/accounts: the same rules as the pages, as JSON."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate

from xueji.access.models import Role
from xueji.accounts.tests.administration.test_bulk import workbook
from xueji.testing.api import api_as
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


def test_create_list_edit_seal_reopen_reset_and_remove(area, county_approver):
    api = api_as(county_approver, language="en")
    created = api.post(
        "/api/accounts/",
        {"login_name": "wangfang", "name": "王芳", "role": "registrar",
         "school_code": area.school.code},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    user_id = body["account"]["id"]
    assert authenticate(username="wangfang", password=body["password"]) is not None
    listed = api.get("/api/accounts/", {"role": "registrar", "place": area.school.code}).json()
    assert [item["login_name"] for item in listed] == ["wangfang"]
    assert listed[0]["state"] == "active"
    detail = api.get(f"/api/accounts/{user_id}").json()
    assert detail["must_change_password"] is True and detail["open_items"] == []
    edited = api.post(
        f"/api/accounts/{user_id}",
        {"name": "王芳芳", "role": "principal", "school_code": area.school.code},
    ).json()
    assert edited["role"] == "principal" and edited["name"] == "王芳芳"
    assert api.post(f"/api/accounts/{user_id}/seal", {"note": "x"}).json()["state"] == "sealed"
    assert api.post(f"/api/accounts/{user_id}/seal", {}).status_code == 409
    assert api.post(f"/api/accounts/{user_id}/reopen", {}).json()["state"] == "active"
    assert api.post(f"/api/accounts/{user_id}/reopen", {}).status_code == 409
    reset = api.post(f"/api/accounts/{user_id}/password", {}).json()
    assert authenticate(username="wangfang", password=reset["password"]) is not None
    removed = api.post(f"/api/accounts/{user_id}/remove", {"reason": "离职"}).json()
    assert removed["state"] == "removed" and removed["seal_reason"] == "removed"


def test_refusals_are_json_with_their_fields(area, county_approver):
    api = api_as(county_approver, language="en")
    answer = api.post(
        "/api/accounts/",
        {"login_name": "x", "name": "x", "role": "admin", "division_code": "440304"},
    )
    assert answer.status_code == 400
    assert set(answer.json()["fields"]) == {"login_name", "role"}
    outside = member(Role.REGISTRAR, school=area.nanshan_school)
    assert api.get(f"/api/accounts/{outside.pk}").status_code == 404
    assert api.post(f"/api/accounts/{county_approver.pk}/seal", {}).status_code == 403
    registrar_api = api_as(member(Role.REGISTRAR, school=area.school))
    assert registrar_api.get("/api/accounts/").status_code == 403


def test_a_sheet_is_checked_then_created(area, county_approver):
    api = api_as(county_approver, language="en")
    content = workbook([[area.school.code, "王芳", "wangfang", "学籍管理员", ""]])

    def send(create: bool):
        return api.client.post(
            "/api/accounts/sheet",
            {"file": io.BytesIO(content), "create": "true" if create else "false"},
            headers=api._headers(),
        ).json()

    checked = send(False)
    assert checked["created"] is False and checked["errors"] == []
    assert checked["accounts"][0]["password"] is None
    done = send(True)
    assert done["created"] is True
    assert authenticate(username="wangfang", password=done["accounts"][0]["password"])
    again = send(True)
    assert again["created"] is False and again["errors"][0]["column"] == "登录名"
