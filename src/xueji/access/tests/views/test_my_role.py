"""The user's own page lists what the role may do, from the matrix; the menus follow it."""

import pytest
from django.utils import translation

from xueji.access.models import Role
from xueji.access.policy import Action
from xueji.students.tests.views.conftest import client_as
from xueji.testing.factories import UserFactory, member

pytestmark = pytest.mark.django_db


def test_the_registrar_s_page_lists_the_registrar_s_actions(school):
    page = client_as(school["registrar"]).get("/me/").content.decode()
    assert "Register new students" in page
    # Actions by their names, not their codes (issue 20, item 17).
    assert "student.register" not in page and "student.view" not in page
    assert "Approve or reject a correction for the county" not in page


def test_a_class_teacher_s_limits_are_spelled_out(school):
    page = client_as(school["teacher"]).get("/me/").content.decode()
    assert "only while the county&#x27;s verification window is open" in page
    assert "My classes" in page and "/students/search/" in page


def test_an_administrator_lands_on_the_own_page_and_sees_no_student_action(db):
    admin = member(Role.ADMIN)
    response = client_as(admin).get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/me/"
    page = response.content.decode()
    with translation.override("en"):
        named = {action: str(action.label) for action in Action}
    assert named[Action.SCHOOL_MANAGE] in page and "school.manage" not in page
    # 三员分立: neither the accounts nor the trail are the system administrator's.
    assert named[Action.ACCOUNT_MANAGE] not in page and named[Action.AUDIT_VIEW] not in page
    assert named[Action.STUDENT_VIEW] not in page and "/students/search/" not in page


def test_a_user_without_a_role_is_told_so(db):
    page = client_as(UserFactory()).get("/me/").content.decode()
    assert "Your account has no role yet" in page
