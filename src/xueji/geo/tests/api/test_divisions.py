import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.testing.api import ApiClient, api_as
from xueji.testing.factories import SchoolFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def nation():
    return api_as(member(Role.BUREAU_VIEWER))


def test_without_filters_the_provinces_are_listed(nation):
    response = nation.get("/api/divisions")
    assert response.status_code == 200
    rows = response.json()
    assert {
        "code": "440000",
        "name": "广东省",
        "level": "province",
        "parent_code": None,
        "county_level": False,
    } in rows
    assert {r["level"] for r in rows} == {"province"}
    assert len(rows) == Division.objects.filter(level="province").count() >= 31


def test_children_of_a_division(nation):
    rows = nation.get("/api/divisions", {"parent": "440300"}).json()
    codes = [r["code"] for r in rows]
    assert "440304" in codes and "440305" in codes
    assert {r["parent_code"] for r in rows} == {"440300"}
    assert codes == sorted(codes)


def test_one_division(nation):
    response = nation.get("/api/divisions/440304")
    assert response.status_code == 200
    assert response.json() == {
        "code": "440304",
        "name": "福田区",
        "level": "county",
        "parent_code": "440300",
        "county_level": True,
    }


def test_a_city_without_counties_is_listed_among_the_counties(nation):
    """东莞 (441900) has no counties: it is a city and its own county (issue 18, item 2)."""
    rows = nation.get("/api/divisions", {"level": "county"}).json()
    dongguan = next(r for r in rows if r["code"] == "441900")
    assert dongguan == {
        "code": "441900",
        "name": "东莞市",
        "level": "city",
        "parent_code": "440000",
        "county_level": True,
    }
    assert "440300" not in {r["code"] for r in rows}
    assert {r["code"] for r in rows if r["level"] == "city"} == {
        "441900",
        "442000",
        "460400",
        "620200",
    }


def test_an_unknown_division_is_404_with_a_code(nation):
    response = nation.get("/api/divisions/449999")
    assert response.status_code == 404
    assert response.json()["code"] == "division_not_found"


def test_a_county_user_sees_only_its_county():
    county = api_as(member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440304")))
    assert [r["code"] for r in county.get("/api/divisions", {"parent": "440300"}).json()] == [
        "440304"
    ]
    assert county.get("/api/divisions/440304").status_code == 200
    assert county.get("/api/divisions/440305").status_code == 404
    assert county.get("/api/divisions").json() == []


def test_a_school_user_sees_the_divisions():
    school = api_as(member(Role.REGISTRAR, school=SchoolFactory()))
    assert school.get("/api/divisions/440305").status_code == 200


def test_a_user_without_membership_sees_no_division():
    nobody = api_as(UserFactory())
    assert nobody.get("/api/divisions").json() == []
    assert nobody.get("/api/divisions/440304").status_code == 404


def test_divisions_need_authentication():
    assert ApiClient(None).get("/api/divisions").status_code == 401
    assert ApiClient(None).get("/api/divisions/440304").status_code == 401
