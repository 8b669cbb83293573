"""Every page shows only what lies inside the user's scope; the rest does not exist (404)."""

import uuid

import pytest
from django.test import Client

from xueji.testing.factories import UserFactory

from .conftest import client_as

pytestmark = pytest.mark.django_db


def detail(student):
    return f"/students/{student.pk}/"


def roster(school_class):
    return f"/classes/{school_class.pk}/"


def test_registrar_of_school_a_gets_404_for_a_student_and_a_class_of_school_b(registry):
    client = client_as(registry.registrar_a)
    assert client.get(detail(registry.student_a)).status_code == 200
    assert client.get(roster(registry.class_a)).status_code == 200
    assert client.get(detail(registry.student_b)).status_code == 404
    assert client.get(roster(registry.class_b)).status_code == 404
    assert client.get(detail(registry.student_c)).status_code == 404
    assert client.get(roster(registry.class_c)).status_code == 404


def test_a_404_looks_the_same_for_a_student_elsewhere_and_one_that_does_not_exist(registry):
    client = client_as(registry.registrar_a)
    elsewhere = client.get(detail(registry.student_b))
    missing = client.get(f"/students/{uuid.uuid4()}/")
    assert elsewhere.status_code == missing.status_code == 404
    assert registry.student_b.name not in elsewhere.content.decode()


def test_county_user_sees_its_county_only(registry):
    futian = client_as(registry.futian)
    for student in (registry.student_a, registry.student_b):
        assert futian.get(detail(student)).status_code == 200
    for school_class in (registry.class_a, registry.class_b):
        assert futian.get(roster(school_class)).status_code == 200
    assert futian.get(detail(registry.student_c)).status_code == 404
    assert futian.get(roster(registry.class_c)).status_code == 404

    nanshan = client_as(registry.nanshan)
    assert nanshan.get(detail(registry.student_c)).status_code == 200
    assert nanshan.get(detail(registry.student_a)).status_code == 404
    assert nanshan.get(roster(registry.class_a)).status_code == 404


def test_county_home_lists_only_its_schools(registry):
    page = client_as(registry.futian).get("/").content.decode()
    assert registry.school_a.name in page
    assert registry.school_b.name in page
    assert registry.school_c.name not in page


def test_city_home_lists_the_schools_of_all_its_counties(registry):
    page = client_as(registry.shenzhen).get("/").content.decode()
    for school in (registry.school_a, registry.school_b, registry.school_c):
        assert school.name in page


def test_search_finds_nothing_outside_the_scope(registry):
    client = client_as(registry.registrar_a)
    # 王大山 is at school C: neither by name, pinyin, initials nor by full number.
    for query in ("王大山", "wangdashan", "wds", registry.student_c.reveal_student_number()):
        page = client.get("/students/search/", {"q": query}).content.decode()
        assert "No student found" in page, query
        assert f"/students/{registry.student_c.pk}/" not in page

    county = client_as(registry.nanshan)
    page = county.get("/students/search/", {"q": "wds"}).content.decode()
    assert f"/students/{registry.student_c.pk}/" in page
    page = county.get("/students/search/", {"q": "zcm"}).content.decode()
    assert f"/students/{registry.student_a.pk}/" not in page


def test_search_by_a_class_of_another_school_finds_nothing(registry):
    client = client_as(registry.futian)
    page = client.get("/students/search/", {"grade": 1}).content.decode()
    assert f"/students/{registry.student_a.pk}/" in page
    assert f"/students/{registry.student_c.pk}/" not in page


def test_school_home_counts_only_its_own_students(registry):
    page = client_as(registry.registrar_a).get("/").content.decode()
    assert registry.school_a.name in page
    assert registry.school_b.name not in page
    assert f"/classes/{registry.class_b.pk}/" not in page


def test_only_the_school_registrar_may_open_the_registration_form(registry):
    assert client_as(registry.registrar_a).get("/students/register/").status_code == 200
    for user in (registry.teacher_a, registry.futian, registry.shenzhen):
        assert client_as(user).get("/students/register/").status_code == 403


def test_a_user_without_a_role_sees_nothing(db):
    user = UserFactory()
    client = client_as(user)
    page = client.get("/").content.decode()
    assert "Your account has no role yet" in page
    assert client.get("/students/search/", {"q": "zcm"}).status_code == 200
    assert client.get("/students/register/").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/students/search/",
        "/students/register/",
        f"/students/{uuid.uuid4()}/",
        "/classes/1/",
        "/divisions/picker/?field=birthplace_code",
    ],
)
def test_every_page_asks_an_anonymous_visitor_to_log_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_outside_the_scope_the_404_page_explains_even_with_debug_on(registry, settings):
    settings.DEBUG = True
    response = client_as(registry.registrar_a).get(detail(registry.student_b))
    assert response.status_code == 404
    page = response.content.decode()
    assert "outside your area of responsibility" in page
    assert "URLconf" not in page  # not Django's technical 404 with the list of URLs
