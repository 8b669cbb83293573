"""The registrar's pages of a school year: classes listed with their class teachers, a class
opened (errors next to the field), a class teacher named, last year's classes copied one grade
up after a confirmation page listing what will be made, and the teaching page of that year."""

import datetime

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.schools.models import SchoolClass
from xueji.scores.models import TeachingAssignment
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, academic_year, member
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db
JULY = datetime.date(2027, 7, 1)


@pytest.fixture(autouse=True)
def in_july(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: JULY)


@pytest.fixture
def school():
    school = SchoolFactory()
    for grade in (1, 6):
        SchoolClassFactory(
            school=school, academic_year=academic_year(2026), grade=grade, number=1, name="1班"
        )
    return school


@pytest.fixture
def registrar(school):
    return member(Role.REGISTRAR, school=school)


def test_the_year_page_opens_a_class_with_errors_next_to_the_field(school, registrar):
    teacher = member(Role.CLASS_TEACHER, school=school)
    client = client_as(registrar, "en")
    page = client.get("/classes/setup/?year=2027")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="copy-offer"' in html and "2027-2028" in html
    refused = client.post(
        "/classes/setup/add/", {"year": "2027", "grade": "1", "number": "0", "class_teacher": ""}
    )
    assert refused.status_code == 400 and 'id="id_number_error"' in refused.content.decode()
    opened = client.post(
        "/classes/setup/add/",
        {"year": "2027", "grade": "1", "number": "2", "name": "", "class_teacher": teacher.pk},
    )
    assert opened.status_code == 302 and opened["Location"] == "/classes/setup/?year=2027"
    made = SchoolClass.objects.get(academic_year__start_year=2027)
    assert (made.grade, made.number, made.class_teacher) == (1, 2, teacher)
    twice = client.post("/classes/setup/add/", {"year": "2027", "grade": "1", "number": "2"})
    assert twice.status_code == 400 and "already has a class" in twice.content.decode()
    # The class teacher changed from the list.
    other = member(Role.CLASS_TEACHER, school=school)
    client.post(f"/classes/{made.pk}/class-teacher/", {"class_teacher": other.pk})
    made.refresh_from_db()
    assert made.class_teacher == other


def test_the_copy_lists_what_it_makes_before_making_it(school, registrar):
    client = client_as(registrar, "en")
    shown = client.get("/classes/setup/copy/?year=2027&keep_class_teachers=on")
    html = shown.content.decode()
    assert shown.status_code == 200
    assert 'data-grade="2" data-number="1"' in html and 'data-skip="leaving"' in html
    assert 'name="confirmed" value="1"' in html
    assert not SchoolClass.objects.filter(academic_year__start_year=2027).exists()
    made = client.post(
        "/classes/setup/copy/", {"year": "2027", "confirmed": "1", "keep_class_teachers": "on"}
    )
    assert made.status_code == 302
    assert list(
        SchoolClass.objects.filter(academic_year__start_year=2027).values_list("grade", "name")
    ) == [(2, "1班")]
    again = client.post("/classes/setup/copy/", {"year": "2027", "confirmed": "1"})
    assert again.status_code == 400 and 'id="copy-refused"' in again.content.decode()


def test_the_teaching_page_of_the_year_being_set_up(school, registrar):
    subject_teacher = member(Role.SUBJECT_TEACHER, school=school)
    next_year = SchoolClassFactory(
        school=school, academic_year=academic_year(2027), grade=2, number=1, name="1班"
    )
    client = client_as(registrar, "en")
    page = client.get("/teaching/?year=2027").content.decode()
    assert f'<option value="{next_year.pk}"' in page
    saved = client.post(
        "/teaching/add/",
        {
            "year": "2027",
            "school_class": next_year.pk,
            "subject": "math",
            "teacher": subject_teacher.pk,
        },
    )
    assert saved.status_code == 302 and saved["Location"] == "/teaching/?year=2027"
    assert TeachingAssignment.objects.get().school_class == next_year


def test_nobody_else_sets_up_the_school_s_classes(school):
    from xueji.geo.models import Division

    for user in (
        member(Role.PRINCIPAL, school=school),
        member(Role.CLASS_TEACHER, school=school),
        member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440304")),
        member(Role.ADMIN),
    ):
        client = client_as(user, "en")
        assert client.get("/classes/setup/").status_code == 403
        assert (
            client.post("/classes/setup/copy/", {"year": "2027", "confirmed": "1"}).status_code
            == 403
        )
    assert not SchoolClass.objects.filter(academic_year__start_year=2027).exists()
