import uuid

import pytest

from xueji.access.services import api_token_create, api_token_revoke
from xueji.testing.api import ApiClient, World, api_as

pytestmark = pytest.mark.django_db

SCOPES = [
    ("registrar_a", {"a"}),
    ("registrar_b", {"b"}),
    ("futian_bureau", {"a", "b"}),
    ("nanshan_bureau", {"c"}),
    ("nation", {"a", "b", "c"}),
    ("nobody", set()),
]


@pytest.fixture
def world():
    return World()


def test_the_record_shows_the_full_numbers_history_and_family(world):
    student = world.student_a
    response = api_as(world.registrar_a).get(f"/api/students/{student.pk}")
    assert response.status_code == 200
    record = response.json()
    assert record["id"] == str(student.pk)
    assert record["student_number"] == student.number_masked
    assert record["id_number"] == student.id_number_masked
    assert student.reveal_id_number() not in response.content.decode()
    assert record["birth_date"] == "2020-03-05" and record["birthplace_code"] == "440304"
    assert record["school_id"] == world.school_a.pk and record["school_name"] == "福田第一小学"
    assert record["former_numbers"] == []
    assert [p["school_name"] for p in record["placements"]] == ["福田第一小学"]
    assert [m["relation"] for m in record["family"]] == ["51", "52"]
    assert record["family"][0]["is_guardian"] is True


@pytest.mark.parametrize(("who", "visible"), SCOPES)
def test_a_student_outside_the_scope_is_404(world, who, visible):
    client = api_as(getattr(world, who))
    for key in "abc":
        student = getattr(world, "student_" + key)
        response = client.get(f"/api/students/{student.pk}")
        assert response.status_code == (200 if key in visible else 404), (who, key)
        if key not in visible:
            assert response.json() == {
                "code": "student_not_found",
                "message": response.json()["message"],
            }
            assert student.name not in response.content.decode()


def test_an_unknown_student_is_404(world):
    response = api_as(world.nation).get(f"/api/students/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["code"] == "student_not_found"


def test_a_student_number_is_not_an_address(world):
    response = api_as(world.nation).get(f"/api/students/{world.student_a.reveal_student_number()}")
    assert response.status_code == 404
    assert world.student_a.name not in response.content.decode()


def test_reading_refuses_a_revoked_token(world):
    token, raw = api_token_create(actor=None, user=world.registrar_a, name="x")
    api_token_revoke(actor=None, token_id=token.pk)
    response = ApiClient(raw).get(f"/api/students/{world.student_a.pk}")
    assert response.status_code == 401


def test_reveal_gives_the_full_numbers_and_is_audited(world):
    from xueji.audit.models import AuditEntry

    student = world.student_a
    response = api_as(world.registrar_a).post(f"/api/students/{student.pk}/reveal", {})
    assert response.status_code == 200
    assert response.json() == {
        "student_number": student.reveal_student_number(),
        "id_number": student.reveal_id_number(),
    }
    assert AuditEntry.objects.filter(action="student.reveal_numbers", object_id=student.pk).exists()
    outside = api_as(world.registrar_b).post(f"/api/students/{student.pk}/reveal", {})
    assert outside.status_code == 404
