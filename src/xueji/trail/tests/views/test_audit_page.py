"""The auditors' page: search form, results, pages; everyone else is refused and recorded."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

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
    assert world.student_a.number_masked in content
    assert world.student_b.number_masked in content
    assert world.student_c.number_masked not in content
    assert world.registrar_a.username in content
    assert "School registrar" in content


def test_the_page_is_chinese_by_default_and_linked_from_the_menu(world):
    response = client_as(world.auditor, language="zh-hans").get("/audit/")
    content = response.content.decode()
    assert "审计日志" in content
    assert 'href="/audit/" aria-current="page"' in content


def test_search_by_student_number_keeps_the_number_out_of_the_address(world):
    """The form is posted; the page's address then names the student by the record's id
    (addresses are kept in access logs: issue 18, item 5)."""
    auditor = client_as(world.auditor)
    page = auditor.get("/audit/").content.decode()
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page
    posted = auditor.post(
        "/audit/", {"student": world.student_b.reveal_student_number(), "action": "student."}
    )
    assert posted.status_code == 302
    assert posted.url == f"/audit/?action=student.&student={world.student_b.pk}"
    response = auditor.get(posted.url)
    content = response.content.decode()
    assert world.student_b.number_masked in content
    assert world.student_a.number_masked not in content
    assert world.student_b.reveal_id_number() not in content


def test_a_number_in_the_address_is_refused_saying_to_use_the_form(world):
    number = world.student_b.reveal_student_number()
    refused = client_as(world.auditor).get("/audit/", {"student": number})
    assert refused.status_code == 400
    content = refused.content.decode()
    assert "enter it in the form below" in content
    assert world.student_b.number_masked not in content  # nothing searched
    assert 'name="student" value=' not in content  # the number not put back into the form


def test_an_unknown_student_number_says_so(world):
    response = client_as(world.futian_auditor).post(
        "/audit/", {"student": world.student_c.reveal_student_number()}
    )
    assert response.status_code == 200
    assert "No student with this number in your area" in response.content.decode()


def test_search_by_user_and_action_and_a_bad_date(world):
    auditor = client_as(world.auditor)
    by_user = auditor.get("/audit/", {"user": world.registrar_c.username}).content.decode()
    assert world.student_c.number_masked in by_user and world.student_a.number_masked not in by_user
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
    assert world.student_a.number_masked not in response.content.decode()
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


def test_actions_students_and_changes_are_shown_in_words_not_codes(
    world, django_assert_max_num_queries
):
    """Chinese action names (an unknown action its code), the student's name and masked number
    instead of the UUID, before/after as a table of fields instead of JSON."""
    from xueji.students.models import Student

    audit_record(
        actor=world.registrar_a,
        action="student.update",
        object_type="student",
        object_id=str(world.student_a.pk),
        before={"name": "张三", "phone": "13800000000"},
        after={"name": "张叁", "phone": "13800000000"},
    )
    audit_record(actor=world.auditor, action="test.unlisted", detail={"n": 1})
    page = client_as(world.futian_auditor, language="zh-hans").get("/audit/")
    content = page.content.decode()
    assert "注册学籍" in content and "修改学籍信息" in content
    assert ">student.register<" not in content and ">student.update<" not in content
    assert str(world.student_a.pk) not in content and str(world.student_b.pk) not in content
    assert world.student_a.name in content and world.student_a.number_masked in content
    assert '"name"' not in content and "{" not in content.split("audit-table", 1)[1]
    name_label = str(Student._meta.get_field("name").verbose_name)
    assert f'<th scope="row">{name_label}</th><td>张三</td><td>张叁</td>' in content
    national = client_as(world.auditor, language="zh-hans").get("/audit/").content.decode()
    assert "test.unlisted" in national
    # One query for the students of the page, whatever their number.
    with CaptureQueriesContext(connection) as queries:
        client_as(world.futian_auditor).get("/audit/")
    reads = [q["sql"] for q in queries.captured_queries]
    assert len([sql for sql in reads if 'FROM "students_student"' in sql.split("WHERE")[0]]) == 1


def test_an_auditor_sees_no_name_outside_the_area(world):
    audit_record(
        actor=world.registrar_a,
        action="student.update",
        object_type="student",
        object_id=str(world.student_c.pk),
        before={"phone": "1"},
        after={"phone": "2"},
    )
    content = client_as(world.futian_auditor).get("/audit/").content.decode()
    assert world.student_c.name not in content
    assert world.student_c.number_masked not in content
    assert "A student outside your area" in content
