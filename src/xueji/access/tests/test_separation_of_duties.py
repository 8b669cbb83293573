"""三员分立 (等保三级): the system administrator, the security administrator and the auditor are
kept apart, in the matrix, in the rules of who gives which role, and in the database."""

import pytest
from django.core.checks.registry import registry
from django.db import IntegrityError, transaction

from xueji.access import policy
from xueji.access.checks import check_separation_of_duties
from xueji.access.models import SEPARATED_DUTIES, Membership, Role, ScopeLevel
from xueji.access.policy import (
    MATRIX,
    ROLE_LEVELS,
    Action,
    Grant,
    actions_of,
    allowed,
    assignable_roles,
    may_assign_role,
    separation_of_duties_violations,
)
from xueji.testing.factories import SchoolFactory, member

LEVELS = list(ScopeLevel.values)
BUREAU_LEVELS = sorted(ROLE_LEVELS[Role.BUREAU_APPROVER])


def test_the_matrix_keeps_the_three_duties_apart():
    assert separation_of_duties_violations() == []
    assert check_separation_of_duties() == []


@pytest.mark.parametrize("level", BUREAU_LEVELS)
def test_the_system_administrator_neither_reads_the_trail_nor_manages_accounts(level):
    assert not allowed(Role.ADMIN, Action.AUDIT_VIEW, level)
    assert not allowed(Role.ADMIN, Action.ACCOUNT_MANAGE, level)
    assert not allowed(Role.ADMIN, Action.ACCOUNT_SECOND_FACTOR_MANAGE, level)
    assert assignable_roles(Role.ADMIN, level) == []


@pytest.mark.parametrize("level", BUREAU_LEVELS)
def test_the_security_administrator_manages_accounts_and_nothing_else(level):
    assert set(actions_of(Role.SECURITY_ADMIN, level)) == {
        Action.HOME,
        Action.DIVISION_VIEW,
        Action.ACCOUNT_MANAGE,
        Action.ACCOUNT_SECOND_FACTOR_MANAGE,
    }


@pytest.mark.parametrize("level", BUREAU_LEVELS)
def test_the_security_administrator_changes_no_setting(level):
    """Whatever run-time settings exist (closed periods, province rules, verification windows,
    the school register): none is the security administrator's. Settings actions added later
    are refused too, unless the duty is changed on purpose (DUTY_ACTIONS)."""
    settings_like = [
        action
        for action in Action.values
        if action.endswith(("_manage", ".manage", ".run", ".reverse"))
        and action not in policy.DUTY_ACTIONS[Role.SECURITY_ADMIN]
    ]
    assert Action.CHANGE_WINDOW_MANAGE in settings_like
    for action in settings_like:
        assert not allowed(Role.SECURITY_ADMIN, action, level), action


@pytest.mark.parametrize("level", BUREAU_LEVELS)
def test_only_the_auditor_reads_the_trail(level):
    holders = [role for role in Role if allowed(role, Action.AUDIT_VIEW, level)]
    assert holders == [Role.AUDITOR]


def test_a_grant_outside_a_duty_is_named_and_stops_the_server(monkeypatch):
    monkeypatch.setitem(
        MATRIX,
        Role.SECURITY_ADMIN,
        {**MATRIX[Role.SECURITY_ADMIN], Action.CHANGE_WINDOW_MANAGE: Grant(policy.NATION)},
    )
    monkeypatch.setitem(
        MATRIX, Role.ADMIN, {**MATRIX[Role.ADMIN], Action.AUDIT_VIEW: Grant(policy.BUREAU)}
    )
    found = separation_of_duties_violations()
    assert any("security_admin" in line and "change.window_manage" in line for line in found)
    assert any("admin holds another duty" in line and "audit.view" in line for line in found)
    assert any("may read the audit trail" in line for line in found)
    errors = check_separation_of_duties()
    assert {error.id for error in errors} == {"xueji_access.E001"}
    assert all(error.is_serious() for error in errors)
    # Registered with Django's checks, which every command and the server run first.
    assert check_separation_of_duties in registry.get_checks()


# ---- who gives which role ------------------------------------------------------------------


@pytest.mark.parametrize("duty", sorted(SEPARATED_DUTIES))
@pytest.mark.parametrize(
    "manager",
    [(Role.BUREAU_APPROVER, level) for level in BUREAU_LEVELS]
    + [(Role.SECURITY_ADMIN, level) for level in ("county", "city", "province")]
    + [(Role.ADMIN, level) for level in BUREAU_LEVELS]
    + [(Role.AUDITOR, "nation"), (Role.REGISTRAR, "school")],
)
def test_only_the_nations_security_administrator_gives_a_separated_duty(duty, manager):
    for level in LEVELS:
        assert not may_assign_role(*manager, duty, level), (manager, duty, level)


@pytest.mark.parametrize("duty", sorted(SEPARATED_DUTIES))
def test_the_nations_security_administrator_gives_each_duty_at_every_level_it_is_held(duty):
    for level in LEVELS:
        expected = level in ROLE_LEVELS[duty]
        assert may_assign_role(Role.SECURITY_ADMIN, "nation", duty, level) is expected


@pytest.mark.parametrize("level", BUREAU_LEVELS)
def test_a_bureau_approver_gives_ordinary_roles_only_below_its_own_level(level):
    rank = policy.LEVEL_RANK
    for role, at in assignable_roles(Role.BUREAU_APPROVER, level):
        assert rank[at] < rank[level]
        assert role not in SEPARATED_DUTIES
    assert (Role.REGISTRAR, "school") in assignable_roles(Role.BUREAU_APPROVER, level)
    assert not may_assign_role(Role.BUREAU_APPROVER, level, Role.BUREAU_APPROVER, level)


def test_a_county_creates_school_accounts_only():
    assert {level for _role, level in assignable_roles(Role.BUREAU_APPROVER, "county")} == {
        "school"
    }


def test_a_provinces_security_administrator_staffs_its_own_bureau():
    assert may_assign_role(Role.SECURITY_ADMIN, "province", Role.BUREAU_APPROVER, "province")
    assert not may_assign_role(Role.SECURITY_ADMIN, "province", Role.BUREAU_APPROVER, "nation")


def test_nobody_without_the_account_grant_gives_any_role():
    for role in (Role.REGISTRAR, Role.PRINCIPAL, Role.CLASS_TEACHER, Role.SUBJECT_TEACHER):
        assert assignable_roles(role, "school") == []
    for level in BUREAU_LEVELS:
        assert assignable_roles(Role.BUREAU_VIEWER, level) == []
        assert assignable_roles(Role.AUDITOR, level) == []
    assert assignable_roles(None, None) == []


def test_a_role_is_never_given_at_a_level_it_is_not_held():
    assert not may_assign_role(Role.SECURITY_ADMIN, "nation", Role.REGISTRAR, "county")
    assert not may_assign_role(Role.SECURITY_ADMIN, "nation", Role.AUDITOR, "school")


# ---- in the database ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_account_cannot_hold_two_roles():
    """The membership is one row per user (a unique index): a second role for the same account,
    the way an admin would become its own auditor, is refused by the database."""
    admin = member(Role.ADMIN)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=admin, role=Role.AUDITOR, scope_level="nation")
    assert Membership.objects.filter(user=admin).count() == 1
    assert Membership._meta.get_field("user").one_to_one


@pytest.mark.django_db
def test_a_bureau_role_at_a_school_and_an_unknown_role_are_refused_by_the_database():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=user, role=Role.SECURITY_ADMIN, scope_level="school", school=SchoolFactory()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, role="superuser", scope_level="nation")
