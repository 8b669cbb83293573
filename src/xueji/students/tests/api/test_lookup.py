import pytest

from xueji.access.services import api_token_create, api_token_revoke
from xueji.core.idnumbers import mask_id_number, mask_student_number
from xueji.testing.api import ApiClient, World, api_as

pytestmark = pytest.mark.django_db

URL = "/api/students/lookup"


@pytest.fixture
def world():
    return World()


def test_lookup_by_student_number_or_id_number_answers_masked(world):
    student = world.student_a
    client = api_as(world.registrar_a)
    for number in (
        student.reveal_student_number(),
        student.reveal_id_number(),
        " " + student.reveal_id_number().lower(),
    ):
        response = client.post(URL, {"number": number})
        assert response.status_code == 200, number
        found = response.json()
        assert found["id"] == str(student.pk)
        assert found["student_number"] == mask_student_number(student.reveal_student_number())
        assert found["id_number"] == mask_id_number(student.reveal_id_number())
        assert student.reveal_id_number() not in response.content.decode()


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("registrar_a", {"a"}),
        ("registrar_b", {"b"}),
        ("futian_bureau", {"a", "b"}),
        ("nanshan_bureau", {"c"}),
        ("nation", {"a", "b", "c"}),
        ("nobody", set()),
    ],
)
def test_lookup_outside_the_scope_is_404(world, who, visible):
    client = api_as(getattr(world, who))
    for key in "abc":
        student = getattr(world, "student_" + key)
        response = client.post(URL, {"number": student.reveal_student_number()})
        assert response.status_code == (200 if key in visible else 404), (who, key)
        if key not in visible:
            assert response.json()["code"] == "student_not_found"


def test_lookup_of_something_that_is_no_number_is_404(world):
    response = api_as(world.nation).post(URL, {"number": "张春铭"})
    assert response.status_code == 404


def test_lookup_needs_the_number_in_the_body(world):
    response = api_as(world.nation).post(URL, {})
    assert response.status_code == 422
    assert "number" in response.json()["fields"]


def test_lookup_refuses_a_revoked_token(world):
    token, raw = api_token_create(actor=None, user=world.nation, name="x")
    api_token_revoke(actor=None, token_id=token.pk)
    response = ApiClient(raw).post(URL, {"number": world.student_a.reveal_student_number()})
    assert response.status_code == 401
