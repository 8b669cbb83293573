"""The province's dropout-control settings: set by the province (the ministry any), each value
checked with a reason naming the field, in Chinese and English; every save kept (who, when,
old → new); the environment gives defaults only."""

import pytest
from django.test import Client, override_settings
from django.utils import translation

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.attendance.models import ProvinceSettings, ProvinceSettingsChange
from xueji.attendance.rules import FIELDS, settings_for
from xueji.attendance.services.settings import province_settings_save
from xueji.audit.models import AuditEntry
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.testing.api import api_as
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db

GOOD = {
    "unexcused_run_days": 3,
    "unexcused_term_days": 10,
    "returned_after_days": 10,
    "hollow_after_days": 20,
    "cluster_children": 3,
    "cluster_days": 3,
    "step_deadline_working_days": 10,
    "graduate_grade": 6,
}


@pytest.fixture
def people():
    guangdong = Division.objects.get(code="440000")
    return {
        "province": member(Role.BUREAU_APPROVER, division=guangdong),
        "viewer": member(Role.BUREAU_VIEWER, division=guangdong),
        "county": member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440304")),
        "nation": member(Role.BUREAU_APPROVER),
        "other_province": member(
            Role.BUREAU_APPROVER, division=Division.objects.get(code="110000")
        ),
    }


def test_a_save_is_kept_with_who_when_and_old_to_new(people):
    change = province_settings_save(
        actor=people["province"],
        province_code="44",
        values={**GOOD, "unexcused_run_days": "4", "graduate_grade": "9"},
    )
    assert change.changes == {"unexcused_run_days": [3, 4], "graduate_grade": [6, 9]}
    assert change.actor == people["province"] and change.at is not None
    assert settings_for("440304").unexcused_run_days == 4
    assert settings_for("440304").graduate_grade == 9
    assert settings_for("110105").unexcused_run_days == 3  # another province: untouched
    entry = AuditEntry.objects.filter(action="attendance.settings_save").get()
    assert entry.before == {"unexcused_run_days": 3, "graduate_grade": 6}
    # The same values again: nothing changes, no history row.
    again = {**GOOD, "unexcused_run_days": 4, "graduate_grade": 9}
    assert (
        province_settings_save(actor=people["province"], province_code="440000", values=again)
        is None
    )
    assert ProvinceSettingsChange.objects.count() == 1
    # The ministry sets any province's.
    province_settings_save(
        actor=people["nation"], province_code="11", values=GOOD | {"cluster_days": 5}
    )
    assert settings_for("110105").cluster_days == 5


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("unexcused_run_days", "0", "out_of_range"),
        ("unexcused_run_days", "abc", "invalid"),
        ("hollow_after_days", "", "required"),
        ("hollow_after_days", "2", "out_of_range"),
        ("graduate_grade", "7", "out_of_range"),
        ("unexcused_term_days", "2", "below_run"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_field(people, field, value, code):
    with pytest.raises(FieldErrors) as refused:
        province_settings_save(
            actor=people["province"], province_code="44", values={**GOOD, field: value}
        )
    assert [e.code for e in refused.value.errors[field]] == [code]
    assert not ProvinceSettings.objects.exists() and not ProvinceSettingsChange.objects.exists()


def test_the_reason_is_given_in_chinese_and_english(people):
    for language, words in (("zh-hans", "之间"), ("en", "Between")):
        with translation.override(language):
            with pytest.raises(FieldErrors) as refused:
                province_settings_save(
                    actor=people["province"],
                    province_code="44",
                    values={**GOOD, "cluster_children": 99},
                )
            assert words in str(refused.value.errors["cluster_children"][0].messages[0])


def test_only_the_province_and_the_ministry_set_them(people):
    with pytest.raises(PermissionRefused):
        province_settings_save(actor=people["county"], province_code="44", values=GOOD)
    with pytest.raises(PermissionRefused):
        province_settings_save(actor=people["viewer"], province_code="44", values=GOOD)
    with pytest.raises(NotFound):
        province_settings_save(actor=people["other_province"], province_code="44", values=GOOD)
    with pytest.raises(NotFound):
        province_settings_save(actor=people["province"], province_code="99", values=GOOD)
    assert not ProvinceSettings.objects.exists()


def test_the_environment_gives_defaults_only(people):
    with override_settings(XUEJI_ATTENDANCE={"unexcused_run_days": 5, "hollow_after_days": 30}):
        assert settings_for("440304").unexcused_run_days == 5
        province_settings_save(
            actor=people["province"], province_code="44", values={**GOOD, "unexcused_run_days": 4}
        )
        # The saved value wins over the environment; the history says 5 → 4 (the default then).
        assert settings_for("440304").unexcused_run_days == 4
        assert ProvinceSettingsChange.objects.get().changes["unexcused_run_days"] == [5, 4]
        assert settings_for("110105").unexcused_run_days == 5


def test_the_page_shows_defaults_refuses_by_field_and_keeps_history(people):
    page = Client()
    page.force_login(people["province"])
    shown = page.get("/attendance/settings/")
    assert shown.status_code == 200
    assert all(f'name="{name}"' in shown.content.decode() for name in FIELDS)
    assert 'id="defaults-note"' in shown.content.decode()
    refused = page.post(
        "/attendance/settings/",
        {**GOOD, "province_code": "440000", "hollow_after_days": "500"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert refused.status_code == 400
    assert 'id="id_hollow_after_days_error"' in refused.content.decode()
    assert not ProvinceSettings.objects.exists()
    saved = page.post(
        "/attendance/settings/", {**GOOD, "province_code": "440000", "cluster_days": 4}
    )
    assert saved.status_code == 302
    history = page.get(saved["Location"]).content.decode()
    assert 'id="settings-history"' in history and "3 → 4" in history
    # The county's approver may not open it.
    county = Client()
    county.force_login(people["county"])
    assert county.get("/attendance/settings/").status_code == 403


def test_the_api_reads_and_saves(people):
    api = api_as(people["province"], language="en")
    got = api.get("/api/attendance/settings/44")
    assert got.status_code == 200 and got.json()["saved"] is False
    assert got.json()["values"]["unexcused_run_days"] == 3
    bad = api.post("/api/attendance/settings/44", {**GOOD, "unexcused_run_days": 31})
    assert bad.status_code == 400 and "unexcused_run_days" in bad.content.decode()
    ok = api.post("/api/attendance/settings/44", {**GOOD, "unexcused_run_days": 5})
    assert ok.status_code == 200
    assert ok.json()["history"][0]["changes"] == {"unexcused_run_days": [3, 5]}
    assert api_as(people["county"]).get("/api/attendance/settings/44").status_code == 403
    assert api_as(people["other_province"]).get("/api/attendance/settings/44").status_code == 404
