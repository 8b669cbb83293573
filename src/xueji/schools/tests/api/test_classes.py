import pytest

from xueji.access.services import api_token_create, api_token_revoke
from xueji.core.idnumbers import mask_id_number, mask_student_number
from xueji.testing.api import ApiClient, World, api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


def test_the_roster_of_a_class_masks_the_numbers(world):
    response = api_as(world.registrar_a).get(f"/api/classes/{world.class_a.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["school_class"]["id"] == world.class_a.pk
    assert body["school_class"]["school"]["code"] == world.school_a.code
    assert body["school_class"]["grade"] == 1 and body["school_class"]["academic_year"] == 2026
    assert body["student_count"] == 1
    [row] = body["students"]
    student = world.student_a
    assert row["id"] == str(student.pk) and row["name"] == "张春铭"
    assert row["student_number"] == mask_student_number(student.reveal_student_number())
    assert row["id_number"] == mask_id_number(student.reveal_id_number())
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
def test_a_class_outside_the_scope_is_404(world, who, visible):
    client = api_as(getattr(world, who))
    for key in "abc":
        response = client.get(f"/api/classes/{getattr(world, 'class_' + key).pk}")
        assert response.status_code == (200 if key in visible else 404), (who, key)
        if key in visible:
            assert response.json()["student_count"] == 1
        else:
            assert response.json()["code"] == "class_not_found"


def test_an_unknown_class_is_404(world):
    response = api_as(world.nation).get("/api/classes/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "class_not_found"


def test_classes_refuse_a_revoked_token(world):
    token, raw = api_token_create(actor=None, user=world.registrar_a, name="x")
    api_token_revoke(actor=None, token_id=token.pk)
    response = ApiClient(raw).get(f"/api/classes/{world.class_a.pk}")
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
