"""The API of subject assignments (issue 19), as the teaching page: the registrar reads the
school's assignments of a year, assigns a subject teacher of the school (another's refused,
naming the field; a subject taken answered 409), ends an assignment; another school's class
and assignment do not exist for it; other roles are refused; every step audited."""

import pytest

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.scores.models import TeachingAssignment
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, academic_year, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    return SchoolFactory()


def test_the_registrar_assigns_and_ends_subject_teaching(school):
    registrar = member(Role.REGISTRAR, school=school)
    teacher = member(Role.SUBJECT_TEACHER, school=school)
    this_year = SchoolClassFactory(school=school, academic_year=academic_year(2026), grade=1)
    next_year = SchoolClassFactory(school=school, academic_year=academic_year(2027), grade=2)
    api = api_as(registrar, language="en")

    made = api.post(
        "/api/teaching", {"class_id": next_year.pk, "subject": "math", "teacher_id": teacher.pk}
    )
    assert made.status_code == 201, made.content
    assert made.json()["year"] == 2027 and made.json()["teacher_id"] == teacher.pk
    taken = api.post(
        "/api/teaching", {"class_id": next_year.pk, "subject": "math", "teacher_id": teacher.pk}
    )
    assert taken.status_code == 409 and taken.json()["code"] == "subject_taken"
    stranger = member(Role.SUBJECT_TEACHER, school=SchoolFactory())
    refused = api.post(
        "/api/teaching", {"class_id": this_year.pk, "subject": "math", "teacher_id": stranger.pk}
    )
    assert refused.status_code == 400 and "teacher" in refused.json()["fields"]

    listed = api.get("/api/teaching", {"year": 2027}).json()
    assert [a["id"] for a in listed["assignments"]] == [made.json()["id"]]
    assert [c["id"] for c in listed["classes"]] == [next_year.pk]
    assert [t["id"] for t in listed["teachers"]] == [teacher.pk]

    ended = api.post(f"/api/teaching/{made.json()['id']}/end", {})
    assert ended.status_code == 200 and not TeachingAssignment.objects.exists()
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("teaching.assign") == 1 and actions.count("teaching.unassign") == 1


def test_another_school_and_other_roles_are_refused(school):
    registrar = member(Role.REGISTRAR, school=school)
    other = SchoolFactory()
    other_class = SchoolClassFactory(school=other, academic_year=academic_year(2026))
    other_teacher = member(Role.SUBJECT_TEACHER, school=other)
    theirs = TeachingAssignment.objects.create(
        teacher=other_teacher,
        school_class=other_class,
        subject="math",
        assigned_by=member(Role.REGISTRAR, school=other),
    )
    api = api_as(registrar)
    body = {"class_id": other_class.pk, "subject": "art", "teacher_id": other_teacher.pk}
    assert api.post("/api/teaching", body).status_code == 404
    assert api.post(f"/api/teaching/{theirs.pk}/end", {}).status_code == 404
    for role in (Role.PRINCIPAL, Role.SUBJECT_TEACHER, Role.CLASS_TEACHER):
        someone = api_as(member(role, school=other))
        assert someone.get("/api/teaching").status_code == 403
        assert someone.post(f"/api/teaching/{theirs.pk}/end", {}).status_code == 403
    assert TeachingAssignment.objects.count() == 1
