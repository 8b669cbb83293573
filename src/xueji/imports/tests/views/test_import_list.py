"""The list of imports: pages of 50 whose links keep the filters, filters by state, kind and
(above the school level) school, and a filter that cannot be read shown as such, not a 500."""

import re

import pytest

from xueji.access.models import Role
from xueji.imports.models import JobState
from xueji.imports.selectors import import_jobs_visible
from xueji.imports.tests.jobs import make_jobs
from xueji.testing.factories import SchoolFactory, member
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db


def _files(html: str) -> set[str]:
    return set(re.findall(r">([a-z]+-\d{3}\.xlsx)</a>", html))


def _links(html: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(r'href="(\?[^"]*)"', html)]


def test_the_list_is_paged_and_the_page_links_keep_the_filters(registrar, school):
    make_jobs(school, registrar, 120, "bad", state=JobState.INVALID)
    make_jobs(school, registrar, 3, "good")
    client = client_as(registrar)
    first = client.get("/imports/", {"state": "invalid"}).content.decode()
    assert len(_files(first)) == 50
    assert not any(name.startswith("good") for name in _files(first))
    (next_link,) = _links(first)
    assert "state=invalid" in next_link and "page=2" in next_link
    second = client.get(f"/imports/{next_link}").content.decode()
    assert len(_files(second)) == 50 and not _files(first) & _files(second)
    links = _links(second)
    assert len(links) == 2 and all("state=invalid" in link for link in links)
    third = client.get("/imports/", {"state": "invalid", "page": 3}).content.decode()
    assert len(_files(third)) == 20
    assert _files(first) | _files(second) | _files(third) == {
        f"bad-{n:03d}.xlsx" for n in range(120)
    }


def test_a_page_number_out_of_range_or_unreadable_shows_a_page(registrar, school):
    make_jobs(school, registrar, 60, "job")
    client = client_as(registrar)
    assert len(_files(client.get("/imports/", {"page": "x"}).content.decode())) == 50
    assert len(_files(client.get("/imports/", {"page": 99}).content.decode())) == 10


def test_the_state_filter_shows_only_refused_imports(registrar, school):
    make_jobs(school, registrar, 2, "good")
    make_jobs(school, registrar, 3, "dup", state=JobState.DUPLICATE)
    html = client_as(registrar).get("/imports/", {"state": "duplicate"}).content.decode()
    assert _files(html) == {"dup-000.xlsx", "dup-001.xlsx", "dup-002.xlsx"}


def test_the_purpose_filter_shows_only_that_kind(registrar, school):
    make_jobs(school, registrar, 2, "new")
    make_jobs(school, registrar, 2, "upd", purpose="updates")
    html = client_as(registrar).get("/imports/", {"purpose": "updates"}).content.decode()
    assert _files(html) == {"upd-000.xlsx", "upd-001.xlsx"}


def test_a_county_filters_by_school_code_or_the_start_of_its_name(registrar, school):
    school.name = "福田实验小学"
    school.save()
    other = SchoolFactory(name="福田外国语学校")
    make_jobs(school, registrar, 2, "mine")
    make_jobs(other, member(Role.REGISTRAR, school=other), 2, "other")
    county = client_as(member(Role.BUREAU_VIEWER, division=school.county))
    everything = county.get("/imports/").content.decode()
    assert 'name="school"' in everything and len(_files(everything)) == 4
    by_code = county.get("/imports/", {"school": school.code}).content.decode()
    assert _files(by_code) == {"mine-000.xlsx", "mine-001.xlsx"}
    by_name = county.get("/imports/", {"school": "福田外国"}).content.decode()
    assert _files(by_name) == {"other-000.xlsx", "other-001.xlsx"}
    both = county.get("/imports/", {"school": "福田", "state": "imported"}).content.decode()
    assert len(_files(both)) == 4
    assert _files(county.get("/imports/", {"school": "南山"}).content.decode()) == set()


def test_a_school_cannot_see_another_schools_imports_through_the_school_filter(registrar, school):
    other = SchoolFactory()
    make_jobs(school, registrar, 1, "mine")
    make_jobs(other, member(Role.REGISTRAR, school=other), 1, "other")
    html = client_as(registrar).get("/imports/", {"school": other.code}).content.decode()
    assert 'name="school"' not in html  # a school's user is not asked for a school
    assert _files(html) == {"mine-000.xlsx"}
    assert not import_jobs_visible(registrar, school=other.code).exists()
    assert import_jobs_visible(registrar, school=school.code).count() == 1


@pytest.mark.parametrize(
    "query",
    [{"state": "bogus"}, {"purpose": "bogus"}, {"school": "123456789012"}, {"school": "x" * 65}],
)
def test_a_filter_that_cannot_be_read_is_shown_as_an_error(registrar, school, query):
    make_jobs(school, registrar, 1, "job")
    county = client_as(member(Role.BUREAU_VIEWER, division=school.county))
    response = county.get("/imports/", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist"' in html and 'role="alert"' in html
    assert _files(html) == set()


def test_a_primary_school_is_not_offered_intake_lists_as_a_filter(registrar, school):
    response = client_as(registrar).get("/imports/", {"purpose": "intake"})
    assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()


def test_a_county_finds_a_school_by_the_part_of_its_name_after_the_county(registrar, school):
    # Every school of a county is named after it (福田区第一小学): the field's own example,
    # 第一小学, has to find it, not an empty list that reads as "this school imported nothing".
    school.name = "福田区第一小学"
    school.save()
    other = SchoolFactory(name="福田区第二小学", county=school.county)
    make_jobs(school, registrar, 2, "mine")
    make_jobs(other, member(Role.REGISTRAR, school=other), 1, "other")
    county = client_as(member(Role.BUREAU_VIEWER, division=school.county))
    html = county.get("/imports/", {"school": "第一小学"}).content.decode()
    assert _files(html) == {"mine-000.xlsx", "mine-001.xlsx"}
    assert _files(county.get("/imports/", {"school": "二小学"}).content.decode()) == {
        "other-000.xlsx"
    }
