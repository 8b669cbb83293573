import pytest

from xueji.core.idnumbers import mask_id_number, mask_student_number
from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db


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


def test_a_class_outside_the_scope_is_404(world, only_in_scope):
    bodies = only_in_scope(
        lambda key: f"/api/classes/{getattr(world, 'class_' + key).pk}", "class_not_found"
    )
    assert all(body["student_count"] == 1 for body in bodies)


def test_an_unknown_class_is_404(world):
    response = api_as(world.nation).get("/api/classes/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "class_not_found"


def test_classes_refuse_a_revoked_token(world, revoked_client):
    response = revoked_client.get(f"/api/classes/{world.class_a.pk}")
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
