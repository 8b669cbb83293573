import dataclasses
import datetime

import pytest
from django.utils.translation import gettext, override

from xueji.access.services import api_token_create, api_token_revoke
from xueji.core import codes
from xueji.core.idnumbers import check_character, mask_id_number, mask_student_number
from xueji.students.api import StudentRegisterIn
from xueji.students.models import NumberKind, Student
from xueji.students.validation import StudentData
from xueji.testing.api import ApiClient, World, api_as
from xueji.testing.factories import student_data

pytestmark = pytest.mark.django_db

URL = "/api/students"


@pytest.fixture
def world():
    return World()


def body(school_class, **overrides):
    extra = {k: overrides.pop(k) for k in ("age_confirmation", "start_date") if k in overrides}
    return {
        **dataclasses.asdict(student_data(**overrides)),
        "school_class_id": school_class.pk,
        **extra,
    }


def test_the_request_body_mirrors_student_data():
    fields = set(StudentRegisterIn.model_fields)
    assert {f.name for f in dataclasses.fields(StudentData)} <= fields
    assert fields - {f.name for f in dataclasses.fields(StudentData)} == {
        "school_class_id",
        "age_confirmation",
        "start_date",
    }


def test_a_registrar_registers_a_student_and_reads_the_full_record(world):
    sent = body(world.class_a, name="赵一鸣")
    response = api_as(world.registrar_a).post(URL, sent)
    assert response.status_code == 201, response.json()
    record = response.json()
    student = Student.objects.get(pk=record["id"])
    assert student.name == "赵一鸣" and student.school == world.school_a
    assert record["student_number"] == mask_student_number("G" + sent["id_number"])
    assert record["id_number"] == mask_id_number(sent["id_number"])
    assert record["number_kind"] == "G" and record["state"] == "enrolled"
    assert record["name_pinyin"] == "zhaoyiming"
    assert record["nationality"] == "CHN" and record["health"] == codes.Health.GOOD
    assert [m["name"] for m in record["family"]] == ["张伟", "李娜"]
    [placement] = record["placements"]
    assert placement["class_id"] == world.class_a.pk and placement["end_date"] is None
    assert placement["grade"] == 1 and placement["academic_year"] == 2026


def test_a_child_without_a_document_gets_a_j_number_and_a_missing_parent_passes(world):
    sent = body(
        world.class_a,
        id_doc_type=codes.IdDocType.NONE,
        id_number="",
        family=[
            {"relation": codes.Relation.MOTHER, "name": "李娜", "is_guardian": True},
            {"relation": codes.Relation.FATHER, "missing_reason": codes.MissingReason.values[0]},
        ],
    )
    response = api_as(world.registrar_a).post(URL, sent)
    assert response.status_code == 201, response.json()
    record = response.json()
    assert record["number_kind"] == NumberKind.J
    assert record["student_number"].startswith("J440304")
    assert record["family"][1]["name"] == "" and record["family"][1]["missing_reason"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (codes.MissingReason.DIVORCED_NO_CONTACT.value, "2"),
        # A client written before the codes were numeric: the word is taken for its code.
        ("divorced", "2"),
        ("deceased", "1"),
        ("abroad", "4"),
    ],
)
def test_a_missing_reason_is_a_code_and_the_former_words_still_pass(world, sent, stored):
    family = [
        {"relation": codes.Relation.MOTHER, "name": "李娜", "is_guardian": True},
        {"relation": codes.Relation.FATHER, "missing_reason": sent},
    ]
    response = api_as(world.registrar_a).post(URL, body(world.class_a, family=family))
    assert response.status_code == 201, response.json()
    assert response.json()["family"][1]["missing_reason"] == stored
    student = Student.objects.get(pk=response.json()["id"])
    assert student.family.get(ordinal=1).missing_reason == stored


def test_a_missing_reason_outside_the_list_is_refused_naming_the_member(world):
    family = [
        {"relation": codes.Relation.MOTHER, "name": "李娜", "is_guardian": True},
        {"relation": codes.Relation.FATHER, "missing_reason": "gone"},
    ]
    response = api_as(world.registrar_a).post(URL, body(world.class_a, family=family))
    assert response.status_code == 400
    [error] = response.json()["fields"]["family.1.missing_reason"]
    assert error["code"] == "invalid_choice" and "gone" in error["message"]


def _with_check(first17):
    return first17 + check_character(first17)


@pytest.mark.parametrize(
    ("id_number", "code"),
    [
        ("44030420200305001", "id_length"),
        ("4403042020030500AX", "id_characters"),
        ("WRONG_CHECK", "id_check_character"),
        (_with_check("44030420200231001"), "id_birth_date"),
        (_with_check("44030420200306001"), "id_birth_date_mismatch"),
        (_with_check("44030420200305002"), "id_sex_mismatch"),
        (_with_check("99030420200305001"), "id_area_code"),
        # A province's and a city's code (GB 11643 wants the county's): issue 18, item 2.
        (_with_check("44000020200305001"), "id_area_not_county"),
        (_with_check("44030020200305001"), "id_area_not_county"),
    ],
)
def test_each_bad_id_number_is_refused_with_its_own_code(world, id_number, code):
    if id_number == "WRONG_CHECK":
        good = _with_check("44030420200305001")
        id_number = good[:17] + ("0" if good[17] != "0" else "1")
    response = api_as(world.registrar_a, language="en").post(
        URL, body(world.class_a, id_number=id_number)
    )
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid_fields"
    assert [e["code"] for e in error["fields"]["id_number"]] == [code]
    assert error["fields"]["id_number"][0]["message"]
    assert "%(" not in error["fields"]["id_number"][0]["message"]
    assert (
        not Student.objects.filter(name="张春铭", school=world.school_a)
        .exclude(pk=world.student_a.pk)
        .exists()
    )


def test_field_messages_follow_the_request_language(world):
    sent = body(world.class_a, id_number="123")
    english = api_as(world.registrar_a, language="en").post(URL, sent).json()
    assert english["fields"]["id_number"][0]["message"] == (
        "An ID number has 18 characters; this one has 3."
    )
    chinese = api_as(world.registrar_a).post(URL, sent).json()
    with override("zh-hans"):
        expected = gettext("An ID number has 18 characters; this one has %(length)d.") % {
            "length": 3
        }
    assert chinese["fields"]["id_number"][0]["message"] == expected
    assert expected != english["fields"]["id_number"][0]["message"]


def test_several_bad_fields_are_reported_at_once(world):
    sent = body(world.class_a, name="", phone="abc", family=[])
    error = api_as(world.registrar_a).post(URL, sent).json()
    assert {"name", "phone", "family"} <= set(error["fields"])
    assert error["fields"]["family"][0]["code"] == "family_required"


def test_a_duplicate_id_number_is_409_naming_the_school_that_holds_it(world):
    sent = body(world.class_b, id_number=world.student_a.reveal_id_number())
    response = api_as(world.registrar_b, language="en").post(URL, sent)
    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "id_number_registered"
    assert "福田第一小学" in error["message"]
    assert error["details"]["school"] == "福田第一小学"
    assert error["fields"]["id_number"][0]["code"] == "id_number_registered"
    assert world.student_a.reveal_id_number() not in error["message"]


def test_an_age_unusual_for_the_grade_must_be_confirmed(world):
    sent = body(world.class_a, birth_date=datetime.date(2017, 3, 5))
    client = api_as(world.registrar_a)
    response = client.post(URL, sent)
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "age_unusual_for_grade"
    assert error["details"]["age"] == 9
    assert "age_confirmation" in error["fields"]
    confirmed = client.post(URL, {**sent, "age_confirmation": "repeated a year abroad"})
    assert confirmed.status_code == 201


@pytest.mark.parametrize("who", ["registrar_b", "registrar_c", "futian_bureau", "nation", "nobody"])
def test_only_the_registrar_of_the_class_school_registers(world, who):
    response = api_as(getattr(world, who)).post(URL, body(world.class_a))
    if who in ("futian_bureau", "nation"):  # the permission matrix: bureaus do not register
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        return
    assert response.status_code == 404
    assert response.json()["code"] == "class_not_found"


def test_a_malformed_request_is_422_with_field_names(world):
    sent = body(world.class_a)
    del sent["name"]
    sent["birth_date"] = "2020-02-31"
    sent["family"][0]["is_guardian"] = "perhaps"
    response = api_as(world.registrar_a, language="en").post(URL, sent)
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "invalid_request"
    assert error["fields"]["name"] == [{"code": "missing", "message": "This field is required."}]
    assert error["fields"]["birth_date"][0]["message"] == "Enter a date as YYYY-MM-DD."
    assert "family.0.is_guardian" in error["fields"]


def test_a_body_that_is_not_json_is_400(world):
    response = api_as(world.registrar_a).post(URL, "{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_registration_refuses_a_revoked_token(world):
    token, raw = api_token_create(actor=None, user=world.registrar_a, name="x")
    api_token_revoke(actor=None, token_id=token.pk)
    response = ApiClient(raw).post(URL, body(world.class_a))
    assert response.status_code == 401
    assert Student.objects.count() == 3
