"""The auditors' page: search form, results, pages; everyone else is refused and recorded."""

import pytest
from django.test import Client

from xueji.audit.models import AuditEntry
from xueji.audit.services import audit_record
from xueji.testing.pages import client_as as logged_in

pytestmark = pytest.mark.django_db


def client_as(user, language="en"):
    return logged_in(user, language)


def test_an_auditor_sees_the_trail_of_the_area(world):
    response = client_as(world.futian_auditor).get("/audit/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Audit trail" in content
    assert str(world.student_a.pk) in content
    assert str(world.student_b.pk) in content
    assert str(world.student_c.pk) not in content
    assert world.registrar_a.username in content
    assert "School registrar" in content


def test_the_page_is_chinese_by_default_and_linked_from_the_menu(world):
    response = client_as(world.auditor, language="zh-hans").get("/audit/")
    content = response.content.decode()
    assert "审计日志" in content
    assert 'href="/audit/" aria-current="page"' in content


def test_search_by_student_number(world):
    response = client_as(world.auditor).get(
        "/audit/", {"student": world.student_b.reveal_student_number()}
    )
    content = response.content.decode()
    assert str(world.student_b.pk) in content
    assert str(world.student_a.pk) not in content


def test_an_unknown_student_number_says_so(world):
    response = client_as(world.futian_auditor).get(
        "/audit/", {"student": world.student_c.reveal_student_number()}
    )
    assert "No student with this number in your area" in response.content.decode()


def test_search_by_user_and_action_and_a_bad_date(world):
    auditor = client_as(world.auditor)
    by_user = auditor.get("/audit/", {"user": world.registrar_c.username}).content.decode()
    assert str(world.student_c.pk) in by_user and str(world.student_a.pk) not in by_user
    nothing = auditor.get("/audit/", {"action": "student.transfer"}).content.decode()
    assert "No entries match" in nothing
    bad = auditor.get("/audit/", {"since": "2026-13-45"})
    assert bad.status_code == 200
    assert "Correct the search fields" in bad.content.decode()


def test_pages_link_older_and_newer(world):
    for number in range(55):
        audit_record(actor=world.auditor, action="test.paged", detail={"n": number})
    auditor = client_as(world.auditor)
    first = auditor.get("/audit/", {"action": "test.paged"})
    page = first.context["page"]
    assert len(page.entries) == 50
    older = f"?action=test.paged&amp;before={page.older}"
    assert older in first.content.decode()
    second = auditor.get("/audit/", {"action": "test.paged", "before": page.older})
    assert len(second.context["page"].entries) == 5
    assert f"after={second.context['page'].newer}" in second.content.decode()


@pytest.mark.parametrize("who", ["registrar_a", "futian_bureau", "nation", "admin", "nobody"])
def test_everyone_else_is_refused_and_the_refusal_is_recorded(world, who):
    user = getattr(world, who)
    response = client_as(user).get("/audit/", {"action": "student.register"})
    assert response.status_code == 403
    assert str(world.student_a.pk) not in response.content.decode()
    refusal = AuditEntry.objects.filter(action="access.denied").get()
    assert refusal.actor == user
    # The page's door (@requires) refuses a role without audit.view; the selector refuses a
    # user without any role.
    assert refusal.detail["code"] == ("forbidden" if who == "nobody" else "permission_denied")
    assert refusal.detail["path"] == "/audit/"


def test_anonymous_visitors_are_sent_to_log_in(world):
    response = Client().get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
