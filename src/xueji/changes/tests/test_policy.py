"""Who may act on which step (pure)."""

import pytest

from xueji.access.models import Role
from xueji.access.scope import Scope
from xueji.changes import policy
from xueji.changes.models import Initiator


def scope(role, level="school", school_id=None, division_code=None):
    return Scope(role=role, level=level, school_id=school_id, division_code=division_code)


REGISTRAR = scope(Role.REGISTRAR, school_id=1)
PRINCIPAL = scope(Role.PRINCIPAL, school_id=1)
TEACHER = scope(Role.CLASS_TEACHER, school_id=1)
COUNTY = scope(Role.BUREAU_APPROVER, "county", division_code="440304")
COUNTY_VIEWER = scope(Role.BUREAU_VIEWER, "county", division_code="440304")
PROVINCE = scope(Role.BUREAU_APPROVER, "province", division_code="440000")
CITY = scope(Role.BUREAU_APPROVER, "city", division_code="440300")


def test_only_the_registrar_of_the_applicant_school_files_and_withdraws():
    assert policy.may_file(REGISTRAR, 1)
    assert not policy.may_file(REGISTRAR, 2)
    assert not policy.may_file(PRINCIPAL, 1)
    assert not policy.may_file(COUNTY, 1)
    assert policy.may_withdraw(REGISTRAR, 1) and not policy.may_withdraw(TEACHER, 1)


def test_school_steps():
    step = {"level": "school", "school_id": 1, "division_code": None}
    assert policy.may_decide(REGISTRAR, **step)
    assert policy.may_decide(PRINCIPAL, **step)
    assert not policy.may_decide(TEACHER, **step)
    assert not policy.may_decide(scope(Role.PRINCIPAL, school_id=2), **step)
    assert not policy.may_decide(COUNTY, **step)
    assert not policy.may_decide(None, **step)


@pytest.mark.parametrize(
    ("who", "level", "code", "allowed"),
    [
        (COUNTY, "county", "440304", True),
        (COUNTY, "county", "440305", False),
        (COUNTY_VIEWER, "county", "440304", False),
        (PROVINCE, "province", "440000", True),
        (PROVINCE, "county", "440304", False),  # a province does not act for its counties
        (CITY, "county", "440304", False),
        (COUNTY, "province", "440000", False),
    ],
)
def test_bureau_steps(who, level, code, allowed):
    assert policy.may_decide(who, level=level, school_id=None, division_code=code) is allowed


def test_compulsory_education_rules():
    assert not policy.initiator_allowed("withdraw", 1, Initiator.SCHOOL)
    assert not policy.initiator_allowed("repeat", 9, Initiator.SCHOOL)
    assert policy.initiator_allowed("repeat", 10, Initiator.SCHOOL)
    assert policy.initiator_allowed("dropout", 5, Initiator.SCHOOL)
    assert policy.initiator_allowed("withdraw", 5, Initiator.GUARDIAN)
    assert policy.needs_guardian_request("transfer", Initiator.SCHOOL)
    assert policy.needs_guardian_request("withdraw", Initiator.GUARDIAN)
    assert not policy.needs_guardian_request("death", Initiator.GUARDIAN)
    assert not policy.needs_evidence("class_change") and policy.needs_evidence("death")
