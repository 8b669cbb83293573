import pytest

from xueji.access.services import api_token_create, api_token_revoke
from xueji.core.idnumbers import mask_id_number, mask_student_number
from xueji.students.services import student_register
from xueji.testing.api import ApiClient, World, api_as
from xueji.testing.factories import SchoolClassFactory, student_data

pytestmark = pytest.mark.django_db

URL = "/api/students"


@pytest.fixture
def world():
    return World()


def names(response):
    assert response.status_code == 200, response.json()
    return sorted(s["name"] for s in response.json())


def test_search_by_name_pinyin_and_initials(world):
    nation = api_as(world.nation)
    assert names(nation.get(URL, {"q": "张"})) == ["张春铭"]
    assert names(nation.get(URL, {"q": "zhangchun"})) == ["张春铭"]
    assert names(nation.get(URL, {"q": "zcm"})) == ["张春铭"]
    assert names(nation.get(URL, {"q": "Wang Da"})) == ["王大山"]
    assert names(nation.get(URL)) == ["张春铭", "李小红", "王大山"]


def test_search_results_mask_the_numbers(world):
    response = api_as(world.nation).get(URL, {"q": "张春铭"})
    [row] = response.json()
    student = world.student_a
    assert row["student_number"] == mask_student_number(student.reveal_student_number())
    assert row["id_number"] == mask_id_number(student.reveal_id_number())
    assert student.reveal_id_number() not in response.content.decode()


def test_search_by_school_grade_and_class(world):
    second_class = SchoolClassFactory(school=world.school_a, grade=2)
    student_register(
        actor=world.registrar_a,
        school_class_id=second_class.pk,
        data=student_data(name="张二年"),
        age_confirmation="test",
    )
    futian = api_as(world.futian_bureau)
    assert names(futian.get(URL, {"school": world.school_a.pk})) == ["张二年", "张春铭"]
    assert names(futian.get(URL, {"school": world.school_a.pk, "grade": 2})) == ["张二年"]
    assert names(futian.get(URL, {"class_id": world.class_b.pk})) == ["李小红"]
    assert names(futian.get(URL, {"q": "张", "grade": 1})) == ["张春铭"]
    assert names(futian.get(URL, {"school": world.school_c.pk})) == []


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("registrar_a", ["张春铭"]),
        ("registrar_b", ["李小红"]),
        ("futian_bureau", ["张春铭", "李小红"]),
        ("nanshan_bureau", ["王大山"]),
        ("nobody", []),
    ],
)
def test_search_stays_inside_the_scope(world, who, visible):
    client = api_as(getattr(world, who))
    assert names(client.get(URL)) == visible
    # A number is searched by POST: it stays out of the address (a GET with one is refused).
    by_number = client.post(URL + "/search", {"q": world.student_c.reveal_id_number()})
    assert names(by_number) == [n for n in visible if n == "王大山"]


def test_search_limits(world):
    nation = api_as(world.nation)
    assert len(nation.get(URL, {"limit": 2}).json()) == 2
    response = nation.get(URL, {"limit": 10_000})
    assert response.status_code == 422
    assert "limit" in response.json()["fields"]


def test_search_refuses_a_revoked_token(world):
    token, raw = api_token_create(actor=None, user=world.nation, name="x")
    api_token_revoke(actor=None, token_id=token.pk)
    assert ApiClient(raw).get(URL, {"q": "张"}).status_code == 401
