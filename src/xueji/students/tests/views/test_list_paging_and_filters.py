"""Student lists page, filter and export (issue 20, item 16): the search shows every match page
by page with the total, a bureau narrows it by county and school inside its area only, 查询 and
重置 sit side by side, and the export takes the same criteria; a class's roster pages too."""

from __future__ import annotations

import csv
import io
import re

import pytest

from xueji.students.services import student_register
from xueji.students.views import lists as views
from xueji.testing.factories import SchoolClassFactory, student_data

from .conftest import Registry, client_as

pytestmark = pytest.mark.django_db

SEARCH = "/students/search/"
HTMX = {"HX-Request": "true"}


def _names(page: str) -> list[str]:
    return re.findall(r'<a href="/students/[0-9a-f-]+/">([^<]+)</a>', page)


@pytest.fixture
def five_zhang(registry: Registry):
    """Class 1-2 of school A: five 张 (zh…), in pinyin order 张春华 … 张春雨."""
    school_class = SchoolClassFactory(school=registry.school_a, grade=1, number=2, name="2班")
    for name in ("张春雨", "张春华", "张春燕", "张春兰", "张春梅"):
        student_register(
            actor=registry.registrar_a,
            school_class_id=school_class.pk,
            data=student_data(name=name),
        )
    return school_class


def test_the_search_pages_through_every_match_with_the_total(registry, five_zhang, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_LIMIT", 2)
    client = client_as(registry.registrar_a)
    criteria = {"q": "zhangchun", "class": five_zhang.pk}
    first = client.post(SEARCH, criteria).content.decode()
    assert "5 students found" in first and "Page 1 of 3" in first
    # The page numbers are buttons of the search form: the criteria are posted, not addressed.
    assert re.search(
        r'<button type="submit" class="secondary" form="student-search" name="page" value="3"',
        first,
    )
    shown = [
        _names(client.post(SEARCH, {**criteria, "page": n}).content.decode()) for n in (1, 2, 3)
    ]
    assert [len(names) for names in shown] == [2, 2, 1]
    assert sorted(name for names in shown for name in names) == sorted(
        ["张春雨", "张春华", "张春燕", "张春兰", "张春梅"]
    )
    third = client.post(SEARCH, {**criteria, "page": 3}, headers=HTMX)
    assert "Page 3 of 3" in third.content.decode()
    assert "page=3" in third["HX-Push-Url"]
    # A page beyond the last shows the last.
    assert "Page 3 of 3" in client.post(SEARCH, {**criteria, "page": 9}).content.decode()


def test_fifty_a_page(registry):
    assert views.SEARCH_LIMIT == 50 and views.ROSTER_PAGE == 50


def test_search_and_reset_side_by_side(registry):
    page = client_as(registry.registrar_a, "zh-hans").get(SEARCH).content.decode()
    assert '<button type="submit" class="primary">查询</button>' in page
    assert (
        '<button type="submit" class="secondary" form="student-search-reset">重置</button>' in page
    )
    assert '<form id="student-search-reset" method="get" action="/students/search/"></form>' in page


def test_a_city_narrows_by_county_and_school_of_its_own(registry):
    client = client_as(registry.shenzhen)
    page = client.get(SEARCH).content.decode()
    county = re.search(r'<select name="county".*?</select>', page, re.S).group(0)
    assert 'value="440304"' in county and 'value="440305"' in county
    assert 'value="440106"' not in county  # 天河区, 广州: not the city's
    nanshan = client.post(SEARCH, {"county": "440305"}).content.decode()
    assert _names(nanshan) == ["王大山"]
    # The county chosen lists its schools to choose from (swapped in by htmx).
    swapped = client.post(SEARCH, {"county": "440304"}, headers=HTMX).content.decode()
    school = re.search(r'<select name="school".*?</select>', swapped, re.S).group(0)
    assert 'hx-swap-oob="true"' in school
    assert registry.school_a.code in school and registry.school_b.code in school
    assert registry.school_c.code not in school
    one_school = client.post(SEARCH, {"county": "440304", "school": registry.school_b.code})
    assert _names(one_school.content.decode()) == ["李小红"]


def test_a_county_cannot_reach_beyond_its_area(registry):
    client = client_as(registry.futian, "en")
    page = client.get(SEARCH).content.decode()
    assert 'name="county"' not in page  # its own county is implied
    school = re.search(r'<select name="school".*?</select>', page, re.S).group(0)
    assert registry.school_a.code in school and registry.school_c.code not in school
    for criteria in ({"county": "440305"}, {"school": registry.school_c.code}):
        answer = client.post(SEARCH, criteria).content.decode()
        assert "王大山" not in answer
    refused = client.post(SEARCH, {"school": registry.school_c.code}).content.decode()
    assert "There is no school with the code" in refused


def test_a_school_of_another_county_than_the_one_chosen_is_said(registry):
    answer = client_as(registry.shenzhen, "en").post(
        SEARCH, {"county": "440305", "school": registry.school_a.code}
    )
    page = answer.content.decode()
    assert "is not a school of the county or province chosen" in page
    assert _names(page) == []


def test_the_export_takes_the_county_chosen(registry):
    client = client_as(registry.shenzhen)
    page = client.post(SEARCH, {"county": "440304"}).content.decode()
    forms = re.findall(
        r'<form method="post" action="/exports/students.csv">(.*?)</form>', page, re.S
    )
    assert forms and '<input type="hidden" name="county" value="440304">' in forms[0]
    download = client.post("/exports/students.csv", {"county": "440304"})
    assert download.status_code == 200
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    names = sorted(line[1] for line in list(csv.reader(io.StringIO(text)))[1:])
    assert names == ["张春铭", "李小红"]


def test_the_roster_pages_and_numbers_on(registry, five_zhang, monkeypatch):
    monkeypatch.setattr(views, "ROSTER_PAGE", 2)
    client = client_as(registry.registrar_a)
    url = f"/classes/{five_zhang.pk}/"
    first = client.get(url).content.decode()
    assert "Page 1 of 3" in first and '<a class="button secondary" href="?page=2"' in first
    third = client.get(url, {"page": 3}).content.decode()
    assert _names(third) and len(_names(third)) == 1
    assert '<td class="num">5</td>' in third
    assert '<span class="stat-value">5</span>' in third  # the whole class is counted


def test_the_rosters_search_is_the_classs_for_a_bureau_too(registry):
    """The roster's 查询 posts its class to the search page, which takes it for a bureau too
    (before, a bureau's search refused any class)."""
    client = client_as(registry.futian)
    roster = client.get(f"/classes/{registry.class_a.pk}/").content.decode()
    assert 'id="roster-search"' in roster
    assert f'<input type="hidden" name="class" value="{registry.class_a.pk}">' in roster
    found = client.post(SEARCH, {"class": registry.class_a.pk, "q": ""}).content.decode()
    assert _names(found) == ["张春铭"]
    outside = client_as(registry.nanshan).post(SEARCH, {"class": registry.class_a.pk})
    assert _names(outside.content.decode()) == []
