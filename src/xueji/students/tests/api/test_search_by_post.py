"""Numbers stay out of addresses: a query string of the student API holding an ID-like run of
digits is refused (400) saying how to search; POST /api/students/search takes the criteria in
the body and answers the same page of results as the GET."""

import pytest

from xueji.testing.api import World, api_as
from xueji.testing.factories import SchoolClassFactory, student_data

pytestmark = pytest.mark.django_db

URL = "/api/students"


@pytest.fixture
def world():
    return World()


def test_a_get_search_by_id_number_is_refused_saying_how_to_search(world):
    response = api_as(world.nation, language="en").get(
        URL, {"q": world.student_a.reveal_id_number()}
    )
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "number_in_query"
    assert "POST /api/students/search" in error["message"]
    chinese = api_as(world.nation, language="zh-hans").get(URL, {"q": "440304201003050011"})
    assert "身份证件号或学籍号不能放在网址中" in chinese.json()["message"]


@pytest.mark.parametrize(
    "query",
    [
        {"q": "44030420100305001X"},  # the check character X
        {"q": "44030420100305001x"},
        {"q": "440304100305001"},  # a first-generation, 15-digit number
        {"q": "G440304201003050011"},  # a student number
        {"q": "4403 0420 1003 0500 11"},  # typed with spaces
        {"q": "张", "school": "440304201003050011"},  # in any parameter
        {"440304201003050011": ""},  # or as a parameter's name
    ],
)
def test_any_id_like_run_in_the_query_string_is_refused(world, query):
    response = api_as(world.nation).get(URL, query)
    assert response.status_code == 400
    assert response.json()["code"] == "number_in_query"


def test_every_operation_of_the_student_api_refuses_it(world):
    client = api_as(world.registrar_a)
    number = world.student_a.reveal_id_number()
    assert client.get(f"{URL}/{world.student_a.pk}?ref={number}").status_code == 400
    assert client.post(f"{URL}/search?q={number}", {}).status_code == 400


@pytest.mark.parametrize("query", [{"q": "12345678901234"}, {"q": "20260901"}, {"limit": 5}])
def test_shorter_runs_of_digits_pass(world, query):
    assert api_as(world.nation).get(URL, query).status_code == 200


def test_the_post_search_answers_the_same_page_as_the_get(world):
    second_class = SchoolClassFactory(school=world.school_a, grade=2)
    from xueji.students.services import student_register

    student_register(
        actor=world.registrar_a,
        school_class_id=second_class.pk,
        data=student_data(name="张二年"),
        age_confirmation="test",
    )
    client = api_as(world.futian_bureau)
    for criteria in (
        {},
        {"q": "张"},
        {"q": "zcm"},
        {"school": world.school_a.pk},
        {"school": world.school_a.pk, "grade": 2},
        {"class_id": world.class_b.pk},
        {"q": "张", "limit": 1},
    ):
        by_get = client.get(URL, criteria)
        by_post = client.post(URL + "/search", criteria)
        assert by_get.status_code == by_post.status_code == 200, criteria
        assert by_post.json() == by_get.json(), criteria


def test_the_post_search_finds_by_number_inside_the_scope_only(world):
    number = world.student_c.reveal_id_number()
    [found] = api_as(world.nanshan_bureau).post(URL + "/search", {"q": number}).json()
    assert found["id"] == str(world.student_c.pk)
    assert number not in str(found)
    assert api_as(world.futian_bureau).post(URL + "/search", {"q": number}).json() == []
    by_student_number = world.student_c.reveal_student_number()
    [same] = api_as(world.nation).post(URL + "/search", {"q": by_student_number}).json()
    assert same["id"] == str(world.student_c.pk)


def test_the_post_search_checks_its_criteria_as_the_get_does(world):
    response = api_as(world.nation).post(URL + "/search", {"limit": 10_000})
    assert response.status_code == 422 and "limit" in response.json()["fields"]


def test_a_role_without_the_search_is_refused(world):
    from xueji.access.models import Role
    from xueji.testing.factories import member

    auditor = member(Role.AUDITOR)
    assert api_as(auditor).post(URL + "/search", {"q": "张"}).status_code == 403
