"""The permission matrix itself: pure functions, no database."""

import pytest

from xueji.access.models import Role, ScopeLevel
from xueji.access.policy import (
    MATRIX,
    ROLE_LEVELS,
    Action,
    Limit,
    actions_of,
    allowed,
    home_page,
    limit,
)

STUDENT_DATA = {
    Action.STUDENT_VIEW,
    Action.STUDENT_VIEW_LIST,
    Action.STUDENT_VIEW_NAMES,
    Action.STUDENT_REVEAL_ID,
    Action.ROSTER_VIEW,
    Action.CORRECTION_VIEW,
}
WRITES = {
    Action.STUDENT_REGISTER,
    Action.STUDENT_EDIT_OTHER_INFO,
    Action.STUDENT_ASSIGN_RESIDENT_ID,
    Action.CORRECTION_REQUEST,
    Action.CORRECTION_APPROVE_SCHOOL,
    Action.CORRECTION_APPROVE_COUNTY,
    Action.SCORE_ENTER,
}

ROLE_LEVELS_FIRST = {role: sorted(levels)[0] for role, levels in ROLE_LEVELS.items()}


def test_every_role_has_a_row_and_every_grant_names_a_known_action_and_level():
    assert set(MATRIX) == set(Role.values)
    for grants in MATRIX.values():
        for action, grant in grants.items():
            assert action in Action.values
            assert grant.levels <= set(ScopeLevel.values)
            assert grant.limit in Limit.values


def test_a_class_teacher_sees_own_classes_in_the_window_and_changes_nothing():
    assert allowed(Role.CLASS_TEACHER, Action.STUDENT_VIEW, ScopeLevel.SCHOOL)
    assert limit(Role.CLASS_TEACHER, Action.STUDENT_VIEW) == Limit.OWN_CLASSES_IN_WINDOW
    assert allowed(Role.CLASS_TEACHER, Action.CLASS_VERIFY, ScopeLevel.SCHOOL)
    for action in WRITES:
        assert not allowed(Role.CLASS_TEACHER, action, ScopeLevel.SCHOOL), action


def test_a_subject_teacher_enters_scores_and_sees_names_of_assigned_classes_only():
    assert set(actions_of(Role.SUBJECT_TEACHER, ScopeLevel.SCHOOL)) == {
        Action.HOME,
        Action.DIVISION_VIEW,
        Action.STUDENT_VIEW_NAMES,
        Action.SCORE_ENTER,
        # A teacher whose pupils ride a bus may stand in for its monitor (issue 22).
        Action.BUS_BOARD,
    }
    assert limit(Role.SUBJECT_TEACHER, Action.STUDENT_VIEW_NAMES) == Limit.ASSIGNED_CLASSES
    assert limit(Role.SUBJECT_TEACHER, Action.BUS_BOARD) == Limit.ASSIGNED_CLASSES


def test_only_the_registrar_registers_and_edits_and_asks_for_corrections():
    for action in (
        Action.STUDENT_REGISTER,
        Action.STUDENT_EDIT_OTHER_INFO,
        Action.CORRECTION_REQUEST,
    ):
        holders = [role for role in Role if allowed(role, action, ROLE_LEVELS_FIRST[role])]
        assert holders == [Role.REGISTRAR], action


def test_the_principal_approves_for_the_school_and_only_a_county_approver_for_the_county():
    assert allowed(Role.PRINCIPAL, Action.CORRECTION_APPROVE_SCHOOL, ScopeLevel.SCHOOL)
    assert allowed(Role.BUREAU_APPROVER, Action.CORRECTION_APPROVE_COUNTY, ScopeLevel.COUNTY)
    for level in (ScopeLevel.CITY, ScopeLevel.PROVINCE, ScopeLevel.NATION):
        assert not allowed(Role.BUREAU_APPROVER, Action.CORRECTION_APPROVE_COUNTY, level)
    for level in (ScopeLevel.COUNTY, ScopeLevel.CITY, ScopeLevel.PROVINCE, ScopeLevel.NATION):
        assert not allowed(Role.BUREAU_VIEWER, Action.CORRECTION_APPROVE_COUNTY, level)
        assert allowed(Role.BUREAU_VIEWER, Action.STUDENT_VIEW, level)


def test_county_approvers_manage_windows():
    assert allowed(Role.BUREAU_APPROVER, Action.WINDOW_MANAGE, ScopeLevel.COUNTY)
    assert not allowed(Role.BUREAU_APPROVER, Action.WINDOW_MANAGE, ScopeLevel.CITY)
    assert not allowed(Role.BUREAU_VIEWER, Action.WINDOW_MANAGE, ScopeLevel.COUNTY)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN, Role.SECURITY_ADMIN])
@pytest.mark.parametrize("level", sorted(ROLE_LEVELS[Role.AUDITOR]))
def test_auditors_and_administrators_see_no_student_data(role, level):
    for action in STUDENT_DATA | WRITES:
        assert not allowed(role, action, level), action
    assert allowed(Role.AUDITOR, Action.AUDIT_VIEW, level)
    assert allowed(Role.SECURITY_ADMIN, Action.ACCOUNT_MANAGE, level)


def test_a_role_held_at_a_level_it_is_not_held_at_grants_nothing():
    assert not allowed(Role.REGISTRAR, Action.STUDENT_REGISTER, ScopeLevel.COUNTY)
    assert not allowed(Role.BUREAU_VIEWER, Action.STUDENT_VIEW, ScopeLevel.SCHOOL)
    assert actions_of(Role.REGISTRAR, ScopeLevel.NATION) == []


def test_no_role_and_unknown_names_grant_nothing():
    assert not allowed(None, Action.HOME, ScopeLevel.SCHOOL)
    assert not allowed("janitor", Action.HOME, ScopeLevel.SCHOOL)
    assert not allowed(Role.REGISTRAR, "student.delete", ScopeLevel.SCHOOL)
    assert not allowed(Role.REGISTRAR, Action.STUDENT_VIEW, None)


def test_every_role_has_a_home_and_teachers_auditors_and_admins_land_on_their_own_page():
    for role in Role:
        for level in ROLE_LEVELS[role]:
            assert allowed(role, Action.HOME, level)
    assert home_page(Role.CLASS_TEACHER) == "verification:my_classes"
    assert home_page(Role.SUBJECT_TEACHER) == "scores:home"
    assert home_page(Role.REGISTRAR) is None
    assert home_page(Role.BUREAU_VIEWER) is None
