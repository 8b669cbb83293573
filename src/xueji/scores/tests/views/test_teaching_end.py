"""Ending a teaching assignment asks first (issue 20, item 2): the list's button opens a page
naming the teacher, the class and the subject and saying what ending it does; only that page's
POST ends it. It used to end at one click of the list."""

import pytest

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.scores.models import Subject, TeachingAssignment
from xueji.scores.services import teaching_assign
from xueji.students.tests.views.conftest import client_as
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(taught):
    teacher = taught["subject_teacher"]
    teacher.first_name, teacher.last_name = "金凤", "王"
    teacher.save(update_fields=["first_name", "last_name"])
    return taught


def test_the_list_offers_no_one_click_end(named):
    page = client_as(named["registrar"]).get("/teaching/").content.decode()
    url = f"/teaching/{named['assignment'].pk}/remove/"
    assert f'href="{url}"' in page
    assert f'action="{url}"' not in page


def test_the_confirmation_names_teacher_class_subject_and_effect(named):
    client = client_as(named["registrar"])
    response = client.get(f"/teaching/{named['assignment'].pk}/remove/")
    assert response.status_code == 200
    page = response.content.decode()
    school_class = named["mine"]
    assert "王金凤" in page and school_class.name in page and "Mathematics" in page
    assert "can no longer enter or change the Mathematics scores" in page
    assert 'name="confirmed" value="yes"' in page
    assert TeachingAssignment.objects.filter(pk=named["assignment"].pk).exists()


def test_the_confirmation_is_in_chinese_on_the_chinese_site(named):
    client = client_as(named["registrar"], language="zh-hans")
    page = client.get(f"/teaching/{named['assignment'].pk}/remove/")
    text = page.content.decode()
    assert "结束任课" in text and "王金凤不能再录入或修改" in text and "数学" in text


def test_a_post_without_the_confirmation_ends_nothing(named):
    client = client_as(named["registrar"])
    response = client.post(f"/teaching/{named['assignment'].pk}/remove/")
    assert response.status_code == 200
    assert TeachingAssignment.objects.filter(pk=named["assignment"].pk).exists()
    assert not AuditEntry.objects.filter(action="teaching.unassign").exists()


def test_the_confirmed_post_ends_it_and_says_whose_it_was(named):
    client = client_as(named["registrar"], language="zh-hans")
    response = client.post(
        f"/teaching/{named['assignment'].pk}/remove/", {"confirmed": "yes"}, follow=True
    )
    assert not TeachingAssignment.objects.filter(pk=named["assignment"].pk).exists()
    assert "王金凤已不再担任" in response.content.decode()
    assert AuditEntry.objects.filter(action="teaching.unassign").count() == 1


def test_another_schools_assignment_is_not_found_and_a_teacher_is_refused(named):
    other = SchoolFactory()
    elsewhere = teaching_assign(
        actor=member(Role.REGISTRAR, school=other),
        school_class_id=SchoolClassFactory(school=other).pk,
        subject=Subject.CHINESE,
        teacher_id=member(Role.SUBJECT_TEACHER, school=other).pk,
    )
    client = client_as(named["registrar"])
    assert client.get(f"/teaching/{elsewhere.pk}/remove/").status_code == 404
    assert client.post(f"/teaching/{elsewhere.pk}/remove/", {"confirmed": "yes"}).status_code == 404
    assert TeachingAssignment.objects.filter(pk=elsewhere.pk).exists()
    teacher = client_as(named["subject_teacher"])
    url = f"/teaching/{named['assignment'].pk}/remove/"
    assert teacher.get(url).status_code == 403
    assert teacher.post(url, {"confirmed": "yes"}).status_code == 403
    assert TeachingAssignment.objects.filter(pk=named["assignment"].pk).exists()
