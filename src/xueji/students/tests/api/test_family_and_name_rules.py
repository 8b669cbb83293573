"""One rule for the page and the API (issue 20, items 4 and 7): a parent left out of the family
is refused as an empty parent is on the page (which always sends the father's and the mother's
rows), and passes recorded as missing with the reason; a name too long is refused as too long,
with the limit, not as holding digits or symbols."""

from __future__ import annotations

import pytest

from xueji.core import codes
from xueji.students.models import Student
from xueji.testing.api import World, api_as

from .test_register import URL, body

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


def test_a_family_without_the_father_is_refused_saying_how_to_record_him(world):
    sent = body(
        world.class_a,
        family=[{"relation": codes.Relation.MOTHER, "name": "李娜", "is_guardian": True}],
    )
    before = Student.objects.count()
    response = api_as(world.registrar_a, language="en").post(URL, sent)
    assert response.status_code == 400, response.json()
    [error] = response.json()["fields"]["family"]
    assert error["code"] == "father_not_recorded"
    assert "record him by name, or as missing with the reason" in error["message"]
    assert Student.objects.count() == before


def test_a_family_of_one_asks_for_the_parent_not_recorded(world):
    """Two members, as the national form and the page have them: the one left out is asked for
    (a grandmother alone: the father; a father alone: the mother)."""
    client = api_as(world.registrar_a, language="en")
    for alone, code in (
        (codes.Relation.PATERNAL_GRANDMOTHER, "father_not_recorded"),
        (codes.Relation.FATHER, "mother_not_recorded"),
    ):
        sent = body(
            world.class_a, family=[{"relation": alone, "name": "王秀", "is_guardian": True}]
        )
        error = client.post(URL, sent).json()
        assert [e["code"] for e in error["fields"]["family"]] == [code]


def test_grandparents_who_are_guardians_take_a_row_beside_a_parent(world):
    sent = body(
        world.class_a,
        family=[
            {"relation": codes.Relation.PATERNAL_GRANDMOTHER, "name": "王秀", "is_guardian": True},
            {"relation": codes.Relation.FATHER, "missing_reason": codes.MissingReason.DECEASED},
        ],
    )
    assert api_as(world.registrar_a).post(URL, sent).status_code == 201


def test_the_father_recorded_as_missing_with_the_reason_passes(world):
    sent = body(
        world.class_a,
        family=[
            {"relation": codes.Relation.MOTHER, "name": "李娜", "is_guardian": True},
            {"relation": codes.Relation.FATHER, "missing_reason": codes.MissingReason.UNKNOWN},
        ],
    )
    response = api_as(world.registrar_a).post(URL, sent)
    assert response.status_code == 201, response.json()
    father = Student.objects.get(pk=response.json()["id"]).family.get(relation="51")
    assert (father.name, father.missing_reason) == ("", codes.MissingReason.UNKNOWN)


def test_an_adoptive_father_takes_the_fathers_place(world):
    sent = body(
        world.class_a,
        family=[
            {"relation": codes.Relation.ADOPTIVE_FATHER, "name": "张伟", "is_guardian": True},
            {"relation": codes.Relation.ADOPTIVE_MOTHER, "name": "李娜"},
        ],
    )
    assert api_as(world.registrar_a).post(URL, sent).status_code == 201


def test_a_name_of_65_characters_is_refused_as_too_long_with_the_limit(world):
    sent = body(world.class_a, name="阿" * 65)
    response = api_as(world.registrar_a, language="zh-hans").post(URL, sent)
    assert response.status_code == 400
    [error] = response.json()["fields"]["name"]
    assert error["code"] == "name_too_long"
    assert "64" in error["message"] and "65" in error["message"]
    assert "数字" not in error["message"]
    english = api_as(world.registrar_a, language="en").post(URL, sent).json()
    assert english["fields"]["name"][0]["message"] == (
        "A name has at most 64 characters; this one has 65."
    )
    assert (
        api_as(world.registrar_a).post(URL, body(world.class_a, name="阿" * 64)).status_code == 201
    )


def test_a_family_members_name_too_long_is_refused_with_the_limit(world):
    sent = body(
        world.class_a,
        family=[
            {"relation": codes.Relation.FATHER, "name": "张" * 65, "is_guardian": True},
            {"relation": codes.Relation.MOTHER, "name": "李娜"},
        ],
    )
    error = api_as(world.registrar_a, language="en").post(URL, sent).json()
    assert [e["code"] for e in error["fields"]["family.0.name"]] == ["name_too_long"]


def test_other_texts_too_long_are_refused_with_the_limit_not_left_to_the_database(world):
    """A 201-character address reached the database, which refused it (500 on PostgreSQL)."""
    client = api_as(world.registrar_a, language="en")
    for field, value, limit in (
        ("address", "路" * 201, 200),
        ("former_name", "名" * 65, 64),
        ("phone", "+86 138 0013 8000 123", 20),
    ):
        response = client.post(URL, body(world.class_a, **{field: value}))
        assert response.status_code == 400, (field, response.json())
        errors = response.json()["fields"][field]
        assert "too_long" in [e["code"] for e in errors], field
        message = f"At most {limit} characters; this one has {len(value)}."
        assert message in [e["message"] for e in errors], field
    sent = body(world.class_a)
    sent["family"][0]["employer"] = "厂" * 129
    error = client.post(URL, sent).json()
    assert [e["code"] for e in error["fields"]["family.0.employer"]] == ["too_long"]
