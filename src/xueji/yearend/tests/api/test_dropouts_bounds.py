"""The possible dropouts' school year is bounded as the OpenAPI document says: a year out of
range is a 422 naming `from_year`, not a server error (it was a 500 on both databases: the
deadline of year 100,000 is no date)."""

import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.testing.api import api_as
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", ["99999", "0", "-1", "1899", "2100", "true"])
def test_a_school_year_out_of_range_is_refused_naming_it(year):
    county = api_as(member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440304")))
    refused = county.get("/api/yearend/dropouts", {"from_year": year})
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_request"
    assert list(refused.json()["fields"]) == ["from_year"]


def test_the_bounds_are_in_the_document_and_a_year_inside_them_is_answered():
    county = api_as(member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440304")))
    document = county.get("/api/openapi.json").json()
    [parameter] = document["paths"]["/api/yearend/dropouts"]["get"]["parameters"]
    bounded = parameter["schema"]["anyOf"][0]
    assert (bounded["minimum"], bounded["maximum"]) == (1900, 2099)
    assert county.get("/api/yearend/dropouts", {"from_year": 2099}).status_code == 200
