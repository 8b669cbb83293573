import pytest

from xueji.schools.models import SchoolKind
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolClassFactory, SchoolFactory

pytestmark = pytest.mark.django_db


def names(response):
    assert response.status_code == 200
    return sorted(s["name"] for s in response.json())


def test_a_registrar_lists_only_its_school(world):
    rows = api_as(world.registrar_a).get("/api/schools").json()
    assert [s["code"] for s in rows] == [world.school_a.code]
    assert rows[0] == {
        "id": world.school_a.pk,
        "code": world.school_a.code,
        "name": "福田第一小学",
        "kind": "primary",
        "county_code": "440304",
        "county_name": "福田区",
        "first_grade": 1,
        "last_grade": 6,
    }


def test_a_county_user_lists_the_schools_of_its_county(world):
    assert names(api_as(world.futian_bureau).get("/api/schools")) == [
        "福田第一小学",
        "福田第二小学",
    ]
    assert names(api_as(world.nanshan_bureau).get("/api/schools")) == ["南山第一小学"]


def test_the_nation_lists_everything_and_filters(world):
    nation = api_as(world.nation)
    assert len(names(nation.get("/api/schools"))) == 3
    assert names(nation.get("/api/schools", {"division": "440305"})) == ["南山第一小学"]
    assert len(names(nation.get("/api/schools", {"division": "440300"}))) == 3
    assert names(nation.get("/api/schools", {"q": "第二"})) == ["福田第二小学"]
    assert names(nation.get("/api/schools", {"q": world.school_c.code})) == ["南山第一小学"]
    SchoolFactory(name="福田中学", kind=SchoolKind.JUNIOR)
    assert names(nation.get("/api/schools", {"kind": "junior"})) == ["福田中学"]
    page = nation.get("/api/schools", {"limit": 2, "offset": 2}).json()
    assert len(page) == 2
    assert nation.get("/api/schools", {"limit": 0}).status_code == 422


def test_a_user_without_membership_lists_nothing(world):
    assert api_as(world.nobody).get("/api/schools").json() == []


def test_one_school_with_its_grades_classes_and_counts(world):
    SchoolClassFactory(school=world.school_a, grade=2, name="2班")
    response = api_as(world.registrar_a).get(f"/api/schools/{world.school_a.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["school"]["code"] == world.school_a.code
    assert body["academic_year"] == 2026
    assert body["total"] == 1 and body["boys"] == 1 and body["girls"] == 0
    grades = {g["grade"]: g for g in body["grades"]}
    assert set(grades) == {1, 2}
    [first] = grades[1]["classes"]
    assert first["id"] == world.class_a.pk and first["total"] == 1
    assert grades[1]["label"]
    assert grades[2]["total"] == 0


def test_one_school_outside_the_scope_is_404(world, only_in_scope):
    only_in_scope(
        lambda key: f"/api/schools/{getattr(world, 'school_' + key).pk}", "school_not_found"
    )


def test_schools_refuse_a_revoked_token(world, revoked_client):
    assert revoked_client.get("/api/schools").status_code == 401
    assert revoked_client.get(f"/api/schools/{world.school_a.pk}").status_code == 401
