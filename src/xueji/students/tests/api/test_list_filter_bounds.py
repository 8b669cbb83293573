"""The student list's filters are bounded as the OpenAPI document says: an id beyond a signed
64-bit key, or a grade out of range, is a 422 naming the filter, not a server error (SQLite
failed on `school=99999999999999999999` and `class_id=14677669744231575552` with a 500)."""

import pytest

from xueji.testing.api import World, api_as

pytestmark = pytest.mark.django_db

URL = "/api/students"
BEYOND_64_BITS = str(2**63)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("school", "99999999999999999999"),
        ("class_id", "14677669744231575552"),
        ("school", BEYOND_64_BITS),
        ("class_id", "0"),
        ("grade", "13"),
        ("grade", "-3"),
    ],
)
def test_a_filter_out_of_range_is_refused_naming_it(name, value):
    world = World()
    refused = api_as(world.registrar_a).get(URL, {name: value})
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_request"
    assert list(refused.json()["fields"]) == [name]


def test_the_largest_id_is_looked_for_and_found_nowhere():
    world = World()
    largest = str(2**63 - 1)
    for name in ("school", "class_id"):
        found = api_as(world.registrar_a).get(URL, {name: largest})
        assert found.status_code == 200 and found.json() == []
