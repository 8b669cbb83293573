"""The cascading province → city → county picker that htmx refreshes after each change."""

import pytest

from xueji.access.models import Role
from xueji.geo.forms import chosen_code, split_code
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.force_login(member(Role.REGISTRAR, school=SchoolFactory()))
    return client


def test_split_and_choose_codes():
    assert split_code("440304") == ("440000", "440300", "440304")
    assert split_code("440300") == ("440000", "440300", "")
    assert split_code("440000") == ("440000", "", "")
    assert split_code("bogus") == ("", "", "")
    assert chosen_code("440000", "440300", "440304") == "440304"
    assert chosen_code("440000", "440300", "") == "440300"
    assert chosen_code("110000", "440300", "440304") == "110000"
    assert chosen_code("440000", "440300", "440501") == "440300"


def test_the_picker_lists_cities_then_counties_and_drops_stale_choices(client):
    cities = client.get(
        "/divisions/picker/", {"field": "birthplace_code", "birthplace_code__province": "440000"}
    ).content.decode()
    assert 'value="440300"' in cities  # 深圳市
    assert 'value="440304"' not in cities
    counties = client.get(
        "/divisions/picker/",
        {
            "field": "birthplace_code",
            "birthplace_code__province": "440000",
            "birthplace_code__city": "440300",
        },
    ).content.decode()
    assert 'value="440304"' in counties
    # The province changed to Beijing: Shenzhen's city and county no longer apply.
    moved = client.get(
        "/divisions/picker/",
        {
            "field": "birthplace_code",
            "birthplace_code__province": "110000",
            "birthplace_code__city": "440300",
            "birthplace_code": "440304",
        },
    ).content.decode()
    assert 'value="110100"' in moved
    assert 'value="440304"' not in moved
    assert client.get("/divisions/picker/", {"field": "<script>"}).status_code == 400
