"""The pages of closed periods and province rules: a province closes transfers and sees the
requests held with their resume dates; errors stand next to their field; a county sees but does
not edit; a province neither sees nor edits another's; the ministry chooses any province."""

import datetime

import pytest

from xueji.access.models import Role
from xueji.access.scope import today
from xueji.changes.models import ChangeState, ClosedPeriod, ProvinceRuleVersion
from xueji.changes.services import closed_period_add
from xueji.changes.tests.views.scenario import client_as, file_transfer
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


def days(first: int, last: int) -> dict[str, str]:
    on = today()
    return {
        "starts_on": (on + datetime.timedelta(days=first)).isoformat(),
        "ends_on": (on + datetime.timedelta(days=last)).isoformat(),
    }


def test_a_province_closes_transfers_and_its_page_shows_what_is_held(scene):
    guangdong = client_as(scene.approvers["440000"])
    page = guangdong.get("/changes/periods/")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="add-period"' in html
    # The province sets its own: no choice of province on its form.
    assert 'name="province"' not in html
    added = guangdong.post(
        "/changes/periods/add/", {"operation": "transfer", **days(0, 9), "note": "核查"}
    )
    period = ClosedPeriod.objects.get()
    assert added.status_code == 302 and added["Location"] == f"/changes/periods/{period.pk}/"
    assert period.division_id == "440000" and period.created_by == scene.approvers["440000"]

    # A transfer out of Guangdong filed now is held; the period's page lists it and its date.
    change = file_transfer(scene, scene.child)
    assert change.state == ChangeState.HELD
    resumes = today() + datetime.timedelta(days=10)
    assert change.resumes_on == resumes
    detail = guangdong.get(f"/changes/periods/{period.pk}/").content.decode()
    assert f'id="change-{change.pk}"' in detail and 'id="held-count">(1)' in detail
    assert resumes.strftime("%Y") in detail
    overview = guangdong.get("/changes/periods/").content.decode()
    assert f'id="change-{change.pk}"' in overview
    # Beijing's receiving side sees its request held by Guangdong's period too, with the date.
    beijing = client_as(scene.receiver.registrar).get(f"/changes/{change.pk}/").content.decode()
    assert 'id="held-notice"' in beijing


def test_wrong_days_are_shown_next_to_the_field(scene):
    guangdong = client_as(scene.approvers["440000"])
    refused = guangdong.post("/changes/periods/add/", {"operation": "transfer", **days(5, 1)})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'id="id_ends_on_error"' in html
    assert "The last day cannot come before the first day." in html
    assert not ClosedPeriod.objects.exists()


def test_the_ministry_sets_a_province_s_period_and_chooses_which_to_see(scene):
    ministry = member(Role.BUREAU_APPROVER)
    client = client_as(ministry)
    html = client.get("/changes/periods/?province=11").content.decode()
    assert 'name="province"' in html and 'id="periods-11"' in html
    response = client.post(
        "/changes/periods/add/", {"operation": "yearend", "province": "11", **days(1, 3)}
    )
    assert response.status_code == 302
    assert ClosedPeriod.objects.get().division_id == "110000"


def test_a_county_sees_its_province_s_periods_but_changes_none(scene):
    period = closed_period_add(
        actor=scene.approvers["440000"], operation="transfer", **_dates(0, 3)
    )
    county = client_as(scene.approvers["440304"])
    html = county.get("/changes/periods/").content.decode()
    assert f'id="period-{period.pk}"' in html and 'id="add-period"' not in html
    assert county.get(f"/changes/periods/{period.pk}/").status_code == 200
    assert county.post("/changes/periods/add/", {"operation": "transfer"}).status_code == 403
    assert county.post(f"/changes/periods/{period.pk}/lift/", {"reason": "x"}).status_code == 403
    # Another province neither sees nor changes it.
    beijing = client_as(scene.approvers["110000"])
    assert beijing.get(f"/changes/periods/{period.pk}/").status_code == 404
    assert beijing.post(f"/changes/periods/{period.pk}/lift/", {"reason": "x"}).status_code == 404
    assert beijing.get("/changes/periods/?province=44").status_code == 404
    assert ClosedPeriod.objects.get().lifted_at is None


def test_lifting_on_the_page_needs_a_reason(scene):
    period = closed_period_add(
        actor=scene.approvers["440000"], operation="transfer", **_dates(0, 3)
    )
    guangdong = client_as(scene.approvers["440000"])
    refused = guangdong.post(f"/changes/periods/{period.pk}/lift/", {"reason": ""})
    assert refused.status_code == 400 and 'id="id_reason_error"' in refused.content.decode()
    lifted = guangdong.post(f"/changes/periods/{period.pk}/lift/", {"reason": "提前结束"})
    assert lifted.status_code == 302
    html = guangdong.get("/changes/periods/").content.decode()
    assert "提前结束" in html  # in the history of lifted periods


def test_a_default_of_the_settings_is_shown_and_can_be_taken_over(scene, settings):
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {
        "nation": [{"kind": "transfer", "from": "07-15", "to": "08-14"}]
    }
    ministry = client_as(member(Role.BUREAU_APPROVER))
    html = ministry.get("/changes/periods/").content.decode()
    assert "07-15" in html and "08-14" in html and 'name="operation" value="transfer"' in html
    assert ministry.post("/changes/periods/adopt/", {"operation": "transfer"}).status_code == 302
    row = ClosedPeriod.objects.get()
    assert row.from_settings and row.every_year and row.division_id is None


def test_the_rules_pages(scene):
    guangdong = client_as(scene.approvers["440000"])
    assert guangdong.get("/changes/rules/").status_code == 200
    edit = guangdong.get("/changes/rules/44/edit/")
    assert edit.status_code == 200 and 'name="same_grade_only"' in edit.content.decode()
    missing = guangdong.post("/changes/rules/44/edit/", {"same_grade_only": "on"})
    assert missing.status_code == 400 and 'id="id_reason_error"' in missing.content.decode()
    saved = guangdong.post(
        "/changes/rules/44/edit/", {"same_grade_only": "on", "reason": "粤教〔2026〕1号"}
    )
    assert saved.status_code == 302 and saved["Location"] == "/changes/rules/44/"
    version = ProvinceRuleVersion.objects.get()
    assert version.rules == {"no_transfer_in_graduating_grade": False, "same_grade_only": True}
    history = guangdong.get("/changes/rules/44/").content.decode()
    assert 'data-version="1"' in history and "粤教〔2026〕1号" in history
    # A county sees its province's rules, edits none; another province sees nothing of them.
    county = client_as(scene.approvers["440304"])
    assert county.get("/changes/rules/44/").status_code == 200
    assert county.get("/changes/rules/44/edit/").status_code == 403
    beijing = client_as(scene.approvers["110000"])
    assert beijing.get("/changes/rules/44/").status_code == 404
    assert beijing.post("/changes/rules/44/edit/", {"reason": "x"}).status_code == 404
    # The system administrator changes no setting.
    admin = client_as(member(Role.ADMIN))
    assert admin.get("/changes/rules/44/edit/").status_code == 403
    assert admin.post("/changes/periods/add/", {"operation": "transfer"}).status_code == 403
    assert ProvinceRuleVersion.objects.count() == 1


def _dates(first: int, last: int) -> dict[str, datetime.date]:
    on = today()
    return {
        "starts_on": on + datetime.timedelta(days=first),
        "ends_on": on + datetime.timedelta(days=last),
    }
