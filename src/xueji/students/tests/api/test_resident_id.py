import pytest

from xueji.access.services import api_token_create, api_token_revoke
from xueji.core import codes
from xueji.core.idnumbers import mask_student_number
from xueji.students.models import NumberKind, RecordEvent, Student
from xueji.students.services import student_register
from xueji.testing.api import ApiClient, World, api_as
from xueji.testing.factories import resident_id, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


@pytest.fixture
def j_student(world):
    data = student_data(name="陈安", id_doc_type=codes.IdDocType.NONE, id_number="")
    return student_register(
        actor=world.registrar_a, school_class_id=world.class_a.pk, data=data
    ).student


def url(student):
    return f"/api/students/{student.pk}/resident-id"


def test_j_to_g_keeps_the_record_and_the_old_number_resolves(world, j_student):
    old_number = j_student.reveal_student_number()
    assert j_student.number_kind == NumberKind.J
    new_id = resident_id(birth_date=j_student.birth_date)
    client = api_as(world.registrar_a)
    response = client.post(url(j_student), {"id_number": new_id})
    assert response.status_code == 200, response.json()
    record = response.json()
    assert record["id"] == str(j_student.pk)
    assert record["student_number"] == mask_student_number("G" + new_id)
    assert record["number_kind"] == "G"
    assert record["former_numbers"] == [mask_student_number(old_number)]
    assert len(record["placements"]) == 1
    assert RecordEvent.objects.filter(student=j_student, kind="number_changed").exists()
    found = client.post("/api/students/lookup", {"number": old_number})
    assert found.status_code == 200 and found.json()["id"] == str(j_student.pk)


def test_a_bad_id_number_is_refused_with_its_reason(world, j_student):
    good = resident_id(birth_date=j_student.birth_date)
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    response = api_as(world.registrar_a).post(url(j_student), {"id_number": wrong_check})
    assert response.status_code == 400
    error = response.json()
    assert error["fields"]["id_number"][0]["code"] == "id_check_character"
    other_sex = resident_id(birth_date=j_student.birth_date, male=False)
    response = api_as(world.registrar_a).post(url(j_student), {"id_number": other_sex})
    assert response.json()["fields"]["id_number"][0]["code"] == "id_sex_mismatch"
    j_student.refresh_from_db()
    assert j_student.number_kind == NumberKind.J


def test_an_id_number_held_by_another_record_is_409(world, j_student):
    response = api_as(world.registrar_a, language="en").post(
        url(j_student), {"id_number": world.student_c.reveal_id_number()}
    )
    assert response.status_code == 409
    # Another school's child of another name: only "registered elsewhere", the school unnamed.
    assert response.json()["code"] == "registered_elsewhere"
    assert "南山第一小学" not in response.content.decode()


def test_an_id_number_held_by_a_record_of_the_same_name_names_the_school(world):
    data = student_data(name="王大山", id_doc_type=codes.IdDocType.NONE, id_number="")
    j_student = student_register(
        actor=world.registrar_a, school_class_id=world.class_a.pk, data=data
    ).student
    response = api_as(world.registrar_a, language="en").post(
        url(j_student), {"id_number": world.student_c.reveal_id_number()}
    )
    assert response.status_code == 409
    assert response.json()["details"]["school"] == "南山第一小学"


def test_a_student_with_a_g_number_is_refused(world):
    response = api_as(world.registrar_a).post(
        url(world.student_a), {"id_number": world.student_a.reveal_id_number()}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "already_formal"


@pytest.mark.parametrize("who", ["registrar_b", "registrar_c", "futian_bureau", "nobody"])
def test_only_the_registrar_of_the_school_converts(world, j_student, who):
    response = api_as(getattr(world, who)).post(
        url(j_student), {"id_number": resident_id(birth_date=j_student.birth_date)}
    )
    if who == "futian_bureau":  # the permission matrix: bureaus do not convert numbers
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    else:
        assert response.status_code == 404
        assert response.json()["code"] == "student_not_found"
    assert Student.objects.get(pk=j_student.pk).number_kind == NumberKind.J


def test_conversion_refuses_a_revoked_token(world, j_student):
    token, raw = api_token_create(actor=None, user=world.registrar_a, name="x")
    api_token_revoke(actor=None, token_id=token.pk)
    response = ApiClient(raw).post(url(j_student), {"id_number": resident_id()})
    assert response.status_code == 401
