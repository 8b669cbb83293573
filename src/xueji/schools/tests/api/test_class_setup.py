"""The API of a school year's set-up (issue 19), as /classes/setup/: the registrar reads the year,
opens a class with its class teacher (a wrong one named), names or clears a class teacher,
removes a class opened by mistake, reads the plan of last year's classes one grade up and makes
it; another school's class does not exist for it, and no other role sets up classes."""

import datetime

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.schools.models import SchoolClass
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, academic_year, member

pytestmark = pytest.mark.django_db
JULY = datetime.date(2027, 7, 1)  # in the school year 2026-2027; 2027-2028 is the next


@pytest.fixture(autouse=True)
def in_july(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: JULY)


@pytest.fixture
def school():
    return SchoolFactory()  # a primary school, grades 1-6


@pytest.fixture
def registrar(school):
    return member(Role.REGISTRAR, school=school)


def test_the_registrar_sets_up_a_year_through_the_api(school, registrar):
    teacher = member(Role.CLASS_TEACHER, school=school)
    for grade in (1, 6):
        SchoolClassFactory(
            school=school,
            academic_year=academic_year(2026),
            grade=grade,
            number=1,
            name="1班",
            class_teacher=teacher if grade == 1 else None,
        )
    api = api_as(registrar, language="en")
    setup = api.get("/api/classes/setup", {"year": 2027}).json()
    assert setup["year"] == 2027 and setup["years"] == [2025, 2026, 2027]
    assert setup["classes"] == [] and setup["copyable"] == 1
    assert [t["id"] for t in setup["class_teachers"]] == [teacher.pk]

    # The plan first: grade 1 moves up with its class teacher, grade 6 leaves.
    plan = api.get("/api/classes/setup/copy", {"year": 2027, "keep_class_teachers": True}).json()
    assert [(c["grade"], c["class_teacher"]["id"]) for c in plan["make"]] == [(2, teacher.pk)]
    assert [c["grade"] for c in plan["leaving"]] == [6]
    stale = api.post("/api/classes/setup/copy", {"year": 2027, "confirmed": 2})
    assert stale.status_code == 409 and stale.json()["code"] == "plan_changed"
    made = api.post(
        "/api/classes/setup/copy", {"year": 2027, "keep_class_teachers": True, "confirmed": 1}
    )
    assert made.status_code == 201, made.content
    assert [(c["grade"], c["name"], c["class_teacher"]["id"]) for c in made.json()["made"]] == [
        (2, "1班", teacher.pk)
    ]

    # A new grade 1 class, with a class teacher who is not one of the school's: named.
    outsider = member(Role.CLASS_TEACHER, school=SchoolFactory())
    refused = api.post(
        "/api/classes/setup",
        {"year": 2027, "grade": 1, "number": 1, "class_teacher_id": outsider.pk},
    )
    assert refused.status_code == 400 and "class_teacher" in refused.json()["fields"]
    opened = api.post("/api/classes/setup", {"year": 2027, "grade": 1, "number": 1})
    assert opened.status_code == 201, opened.content
    class_id = opened.json()["id"]
    assert opened.json()["class_teacher"] is None and opened.json()["year"] == 2027
    named = api.post(
        f"/api/classes/setup/{class_id}/class-teacher", {"class_teacher_id": teacher.pk}
    )
    assert named.status_code == 200 and named.json()["class_teacher"]["id"] == teacher.pk
    cleared = api.post(f"/api/classes/setup/{class_id}/class-teacher", {"class_teacher_id": None})
    assert cleared.json()["class_teacher"] is None
    removed = api.post(f"/api/classes/setup/{class_id}/remove", {})
    assert removed.status_code == 200 and not SchoolClass.objects.filter(pk=class_id).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"class.copy_up", "class.create", "class.class_teacher", "class.remove"} <= actions
    far = api.post("/api/classes/setup", {"year": 2030, "grade": 1, "number": 2})
    assert far.status_code == 400 and "year" in far.json()["fields"]


def test_another_school_s_class_and_other_roles_are_refused(school, registrar):
    other = SchoolClassFactory(school=SchoolFactory(), academic_year=academic_year(2026))
    api = api_as(registrar)
    assert api.post(f"/api/classes/setup/{other.pk}/remove", {}).status_code == 404
    assert (
        api.post(
            f"/api/classes/setup/{other.pk}/class-teacher", {"class_teacher_id": None}
        ).status_code
        == 404
    )
    assert SchoolClass.objects.filter(pk=other.pk).exists()
    for role in (Role.PRINCIPAL, Role.CLASS_TEACHER):
        someone = api_as(member(role, school=school))
        assert someone.get("/api/classes/setup").status_code == 403
        assert (
            someone.post("/api/classes/setup", {"year": 2027, "grade": 1, "number": 1}).status_code
            == 403
        )
    assert not SchoolClass.objects.filter(school=school).exists()
