"""Province rules and closed periods are typed with one schema (xueji.changes.rules): the system
check refuses a misspelled key or a wrong type at start-up, naming it; the defaults pass."""

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from xueji.changes.checks import check_change_rules
from xueji.changes.models import ChangeKind
from xueji.changes.rules import (
    ClosedPeriod,
    ProvinceRule,
    RulesError,
    closed_periods_validate,
    province_rules_validate,
)
from xueji.changes.windows import DEFAULT_CLOSED_PERIODS, province_rules

GUANGDONG = {
    "44": {
        "no_transfer_in_graduating_grade": True,
        "same_grade_only": True,
        "closed": [{"kind": "transfer", "from": "08-15", "to": "08-31"}],
    }
}


def test_the_rules_parse_into_typed_objects():
    rules = province_rules_validate(GUANGDONG)
    assert rules.of("440304") == ProvinceRule(
        no_transfer_in_graduating_grade=True,
        same_grade_only=True,
        closed=(ClosedPeriod(ChangeKind.TRANSFER, (8, 15), (8, 31)),),
    )
    # A province not configured has the defaults, as has one configured with nothing.
    assert rules.of("11") == ProvinceRule() == province_rules_validate({"11": {}}).of("11")
    assert closed_periods_validate(DEFAULT_CLOSED_PERIODS) == (
        ClosedPeriod(ChangeKind.TRANSFER, (7, 15), (8, 14)),
    )


@pytest.mark.django_db
def test_the_service_reads_them_from_the_settings_without_a_version(settings):
    settings.XUEJI_PROVINCE_RULES = GUANGDONG
    assert province_rules("440000").same_grade_only
    assert not province_rules("110000").same_grade_only


def closed(**item):
    """Guangdong's rules with one closed period: a transfer from 08-15 to 08-31, changed."""
    return {"44": {"closed": [{"kind": "transfer", "from": "08-15", "to": "08-31", **item}]}}


@pytest.mark.parametrize(
    ("value", "where", "key", "code"),
    [
        ({"44": {"same_grade_onyl": True}}, "44", "same_grade_onyl", "unknown_key"),
        ({"44": {"same_grade_only": "yes"}}, "44", "same_grade_only", "wrong_type"),
        ({"44": {"same_grade_only": 1}}, "44", "same_grade_only", "wrong_type"),
        ({"44": {"closed": {"kind": "transfer"}}}, "44", "closed", "wrong_type"),
        ({"44": {"closed": [{"kind": "transfer"}]}}, "44", "closed[0].from", "missing"),
        (closed(**{"from": "8-15"}), "44", "closed[0].from", "wrong_type"),
        (closed(**{"from": "02-30"}), "44", "closed[0].from", "bad_value"),
        (closed(to=831), "44", "closed[0].to", "wrong_type"),
        (closed(kind="transfers"), "44", "closed[0].kind", "bad_value"),
        (closed(note="x"), "44", "closed[0].note", "unknown_key"),
        ({"440000": {}}, "440000", "", "bad_value"),
        ({"44": True}, "44", "", "wrong_type"),
    ],
)
def test_a_wrong_province_rule_is_named(value, where, key, code):
    with pytest.raises(RulesError) as refused:
        province_rules_validate(value)
    error = refused.value
    assert (error.setting, error.where, error.key, error.code) == (
        "XUEJI_PROVINCE_RULES",
        where,
        key,
        code,
    )
    assert f"province {where!r}" in str(error) and (not key or f"key {key!r}" in str(error))


def test_a_wrong_national_period_is_named():
    with pytest.raises(RulesError) as refused:
        closed_periods_validate({"nation": [{"kind": "transfer", "from": "07-15", "till": "x"}]})
    assert refused.value.key == "nation[0].till" and refused.value.code == "unknown_key"
    with pytest.raises(RulesError) as refused:
        closed_periods_validate({"44": []})
    assert refused.value.key == "44" and "XUEJI_PROVINCE_RULES" in str(refused.value)


def test_the_defaults_pass_the_check(settings):
    settings.XUEJI_PROVINCE_RULES = {}
    settings.XUEJI_CHANGE_CLOSED_PERIODS = DEFAULT_CLOSED_PERIODS
    assert check_change_rules() == []
    settings.XUEJI_PROVINCE_RULES = GUANGDONG
    assert check_change_rules() == []


def test_a_misspelled_key_fails_the_check_naming_it(settings):
    settings.XUEJI_PROVINCE_RULES = {"44": {"same_grade_onyl": True}}
    [error] = check_change_rules()
    assert error.id == "xueji_changes.E001"
    assert "'44'" in error.msg and "'same_grade_onyl'" in error.msg and "unknown key" in error.msg


def test_a_wrong_type_fails_the_check_naming_it(settings):
    settings.XUEJI_PROVINCE_RULES = {"44": {"no_transfer_in_graduating_grade": "true"}}
    settings.XUEJI_CHANGE_CLOSED_PERIODS = {
        "nation": [{"kind": "transfer", "from": 715, "to": "08-14"}]
    }
    errors = check_change_rules()
    assert [error.id for error in errors] == ["xueji_changes.E001", "xueji_changes.E002"]
    assert "'no_transfer_in_graduating_grade'" in errors[0].msg
    assert "expected true or false" in errors[0].msg
    assert "'nation[0].from'" in errors[1].msg


def test_the_check_is_registered_and_stops_the_server(settings):
    settings.XUEJI_PROVINCE_RULES = {"44": {"same_grade_onyl": True}}
    assert "xueji_changes.E001" in [message.id for message in checks.run_checks()]
    with pytest.raises(SystemCheckError, match="same_grade_onyl"):
        call_command("check")
