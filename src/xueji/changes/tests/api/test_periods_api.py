"""The API of closed periods and province rules (issue 19), as their pages: a province closes
transfers and reads the requests the period holds with their resume dates, moves and lifts it;
the ministry sets a province's; a county reads but sets nothing; nobody reads or sets another
province's; wrong days and wrong rules are refused naming the field; every change is audited
and a province's rules keep their history."""

import datetime

import pytest

from xueji.access.scope import today
from xueji.audit.models import AuditEntry
from xueji.changes.models import ChangeState, ClosedPeriod, ProvinceRuleVersion
from xueji.changes.tests.views.scenario import file_transfer
from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db


def days(first: int, last: int) -> dict[str, str]:
    on = today()
    return {
        "starts_on": (on + datetime.timedelta(days=first)).isoformat(),
        "ends_on": (on + datetime.timedelta(days=last)).isoformat(),
    }


def test_a_province_closes_transfers_and_reads_what_is_held(scene):
    guangdong = api_as(scene.approvers["440000"])
    added = guangdong.post("/api/changes/periods", {"operation": "transfer", **days(0, 9)})
    assert added.status_code == 201, added.content
    body = added.json()
    period = ClosedPeriod.objects.get()
    assert body["id"] == period.pk and body["scope"] == "44" and body["may_manage"]
    assert period.division_id == "440000" and period.created_by == scene.approvers["440000"]
    assert AuditEntry.objects.filter(action="closed_period.add").count() == 1

    # A transfer out of Guangdong filed now is held; the period lists it with its date.
    change = file_transfer(scene, scene.child)
    assert change.state == ChangeState.HELD
    resumes = (today() + datetime.timedelta(days=10)).isoformat()
    detail = guangdong.get(f"/api/changes/periods/{period.pk}").json()
    assert detail["held_count"] == 1
    assert detail["held"][0]["id"] == str(change.pk)
    assert detail["held"][0]["resumes_on"] == resumes
    listed = guangdong.get("/api/changes/periods").json()
    assert listed["nation"]["scope"] == "nation" and not listed["nation"]["may_manage"]
    ours = listed["province"]
    assert ours["scope"] == "44" and ours["may_manage"]
    transfer = next(p for p in ours["periods"] if p["operation"] == "transfer")
    assert transfer["held"][0]["resumes_on"] == resumes

    # Moved: what it holds is dated again; lifted with a reason: it proceeds, the period stays.
    moved = guangdong.post(f"/api/changes/periods/{period.pk}", days(0, 4))
    assert moved.status_code == 200, moved.content
    change.refresh_from_db()
    assert change.resumes_on == today() + datetime.timedelta(days=5)
    assert guangdong.post(f"/api/changes/periods/{period.pk}/lift", {"reason": ""}).status_code == (
        422
    )
    lifted = guangdong.post(f"/api/changes/periods/{period.pk}/lift", {"reason": "提前结束"})
    assert lifted.status_code == 200 and lifted.json()["lift_reason"] == "提前结束"
    assert not lifted.json()["may_manage"]
    after = guangdong.get("/api/changes/periods").json()["province"]
    assert [p["id"] for p in after["lifted"]] == [period.pk]
    assert {"closed_period.edit", "closed_period.lift"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )


def test_wrong_days_are_refused_naming_the_field(scene):
    guangdong = api_as(scene.approvers["440000"], language="en")
    refused = guangdong.post("/api/changes/periods", {"operation": "transfer", **days(5, 1)})
    assert refused.status_code == 400
    assert "ends_on" in refused.json()["fields"]
    unknown = guangdong.post("/api/changes/periods", {"operation": "holiday", **days(1, 5)})
    assert unknown.status_code == 422
    assert not ClosedPeriod.objects.exists()


def test_the_ministry_sets_a_province_s_period_and_a_county_only_reads(scene):
    ministry_user = _ministry()
    ministry = api_as(ministry_user)
    added = ministry.post(
        "/api/changes/periods", {"operation": "suspend", "province": "11", **days(1, 3)}
    )
    assert added.status_code == 201 and added.json()["scope"] == "11"
    assert ministry.get("/api/changes/periods", {"province": "11"}).json()["province"]["scope"] == (
        "11"
    )
    period_id = added.json()["id"]

    county = api_as(scene.approvers["440304"])
    assert county.get("/api/changes/periods").status_code == 200
    assert county.get("/api/changes/periods", {"province": "11"}).status_code == 404
    assert county.get(f"/api/changes/periods/{period_id}").status_code == 404
    assert county.post(
        "/api/changes/periods", {"operation": "transfer", **days(1, 3)}
    ).status_code == (403)
    # A province neither reads nor changes another province's period.
    guangdong = api_as(scene.approvers["440000"])
    assert guangdong.get(f"/api/changes/periods/{period_id}").status_code == 404
    assert guangdong.post(f"/api/changes/periods/{period_id}", days(1, 2)).status_code == 404
    assert (
        guangdong.post(f"/api/changes/periods/{period_id}/lift", {"reason": "越权"}).status_code
        == 404
    )
    assert ClosedPeriod.objects.get(pk=period_id).lifted_at is None


def test_province_rules_are_versions_with_their_history(scene):
    guangdong = api_as(scene.approvers["440000"], language="en")
    rules = guangdong.get("/api/changes/rules").json()
    assert [row["province_code"] for row in rules] == ["44"] and rules[0]["version"] is None
    saved = guangdong.post(
        "/api/changes/rules/44",
        {
            "rules": {"no_transfer_in_graduating_grade": True, "same_grade_only": False},
            "reason": "省厅通知",
        },
    )
    assert saved.status_code == 201, saved.content
    body = saved.json()
    assert body["rules"]["no_transfer_in_graduating_grade"] is True
    assert [v["version"] for v in body["versions"]] == [1]
    assert body["versions"][0]["reason"] == "省厅通知"
    again = guangdong.post(
        "/api/changes/rules/44",
        {
            "rules": {"no_transfer_in_graduating_grade": True, "same_grade_only": False},
            "reason": "再次",
        },
    )
    assert again.status_code == 400 and again.json()["fields"]["__all__"][0]["code"] == "no_change"
    unknown = guangdong.post(
        "/api/changes/rules/44",
        {"rules": {"same_grade_only": True, "no_such_rule": True}, "reason": "试"},
    )
    assert unknown.status_code == 400 and "no_such_rule" in unknown.json()["fields"]
    # Another province's rules are out of sight; a county reads its own and changes nothing.
    assert guangdong.get("/api/changes/rules/11").status_code == 404
    assert (
        guangdong.post(
            "/api/changes/rules/11",
            {
                "rules": {"no_transfer_in_graduating_grade": True, "same_grade_only": True},
                "reason": "x",
            },
        ).status_code
        == 404
    )
    county = api_as(scene.approvers["440304"])
    assert county.get("/api/changes/rules/44").json()["may_manage"] is False
    assert (
        county.post(
            "/api/changes/rules/44",
            {
                "rules": {"no_transfer_in_graduating_grade": False, "same_grade_only": False},
                "reason": "x",
            },
        ).status_code
        == 403
    )
    assert ProvinceRuleVersion.objects.count() == 1
    assert AuditEntry.objects.filter(action="province_rules.save").count() == 1


def _ministry():
    from xueji.access.models import Role
    from xueji.testing.factories import member

    return member(Role.BUREAU_APPROVER)
