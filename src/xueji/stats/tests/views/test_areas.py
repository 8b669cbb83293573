"""The drill-down 省 → 市 → 区县 → 学校 (issue 20, item 16): each level a table of the next one's
schools and students on roll, each row leading one level down (a school to its own statistics),
breadcrumbs back up, paged, searched by name or code, exported to Excel; counted in a fixed
number of statements whatever the number of schools; the home of a province and of the nation."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xueji.geo.models import Division
from xueji.stats import registry
from xueji.students.tests.views.conftest import client_as
from xueji.testing.factories import SchoolFactory

pytestmark = pytest.mark.django_db

DAY = {"date": "2026-10-20"}


def _rows(html):
    """{row label: (link, [cells])} of the drill-down's table, and the total row's cells."""
    table = re.search(r'id="table-areas".*?<tbody>(.*?)</tbody>', html, re.S)
    assert table, "no table"
    rows = {}
    total = None
    for row in re.findall(r"<tr(.*?)</tr>", table.group(1), re.S):
        cells = [
            re.sub(r"<.*?>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        link = re.search(r'<th scope="row"><a href="([^"]*)">(.*?)</a>', row)
        if link is None:
            total = cells
            continue
        rows[link.group(2)] = (link.group(1).replace("&amp;", "&"), cells)
    return rows, total


def test_the_nation_drills_down_from_provinces_to_a_school(filled):
    client = client_as(filled.users["nation_approver"])
    html = client.get("/stats/areas/", DAY).content.decode()
    provinces, total = _rows(html)
    assert len(provinces) == Division.objects.filter(level="province").count()
    link, cells = provinces["广东省"]
    assert link == "/stats/areas/?scope=province%3A440000"
    # Code, schools, students on roll, boys, girls.
    assert cells == ["440000", "4", "10", "7", "3"]
    assert provinces["广西壮族自治区"][1] == ["450000", "1", "0", "0", "0"]
    assert total == ["", "5", "10", "7", "3"]

    cities, _total = _rows(
        client.get("/stats/areas/", {"scope": "province:440000", **DAY}).content.decode()
    )
    assert cities["深圳市"] == (
        "/stats/areas/?scope=city%3A440300",
        ["440300", "3", "10", "7", "3"],
    )
    # 东莞 has no counties: its row leads to it as a county, whose rows are its schools.
    assert cities["东莞市"][0] == "/stats/areas/?scope=county%3A441900"

    counties, _total = _rows(
        client.get("/stats/areas/", {"scope": "city:440300", **DAY}).content.decode()
    )
    assert counties["福田区"][1] == ["440304", "2", "10", "7", "3"]
    assert counties["南山区"][1] == ["440305", "1", "0", "0", "0"]

    response = client.get("/stats/areas/", {"scope": "county:440304", **DAY})
    html = response.content.decode()
    schools, total = _rows(html)
    # A school leads to its own statistics.
    assert schools["福田一小"] == (
        f"/stats/?scope=school%3A{filled.futian.pk}",
        [filled.futian.code, "10", "7", "3"],
    )
    assert schools["福田二小"][1] == [filled.futian_2.code, "0", "0", "0"]
    assert total == ["", "10", "7", "3"]
    crumbs = re.search(r'<nav class="breadcrumbs" aria-label="Areas">(.*?)</nav>', html, re.S)
    assert crumbs and re.findall(r'href="([^"]*)">([^<]*)</a>', crumbs.group(1)) == [
        ("/stats/areas/?scope=nation", "Nation"),
        ("/stats/areas/?scope=province%3A440000", "广东省"),
        ("/stats/areas/?scope=city%3A440300", "深圳市"),
    ]
    assert client.get(schools["福田一小"][0]).status_code == 200
    # No chart on it: the chart library is not fetched (the area picker still submits itself).
    assert "echarts" not in html and "/static/js/stats.js" in html


def test_a_county_drills_into_its_schools_and_no_further_up(filled):
    client = client_as(filled.users["futian_viewer"])
    schools, _total = _rows(client.get("/stats/areas/", DAY).content.decode())
    assert set(schools) == {"福田一小", "福田二小"}
    assert client.get("/stats/areas/", {"scope": "county:440305"}).status_code == 404
    assert client.get("/stats/areas/", {"scope": "city:440300"}).status_code == 404
    assert client.get("/stats/areas/", {"scope": filled.nanshan.code}).status_code == 404


def test_a_school_sees_its_classes(filled):
    client = client_as(filled.users["principal_futian"])
    classes, total = _rows(client.get("/stats/areas/", DAY).content.decode())
    assert {label: cells for label, (_link, cells) in classes.items()} == {
        "Grade 1 1班": ["9", "6", "3"],
        "Grade 1 2班": ["1", "1", "0"],
    }
    assert total == ["10", "7", "3"]
    assert client.get("/stats/areas/", {"scope": "county:440304"}).status_code == 404
    assert client.get("/stats/areas/", {"scope": f"school:{filled.futian_2.pk}"}).status_code == 404


def test_viewers_above_the_county_see_small_counts_hidden(filled):
    client = client_as(filled.users["guangdong_viewer"])
    counties, _total = _rows(
        client.get("/stats/areas/", {"scope": "city:440300", **DAY}).content.decode()
    )
    # 3 girls in 福田区 is a small count; the schools are not children.
    assert counties["福田区"][1][0:2] == ["440304", "2"] and counties["福田区"][1][4] == "&lt;5"


def test_the_search_finds_by_name_or_code_and_keeps_the_areas_total(filled):
    client = client_as(filled.users["nation_approver"])
    page = {"scope": "city:440300", **DAY}
    counties, total = _rows(client.get("/stats/areas/", {**page, "q": "福田"}).content.decode())
    assert set(counties) == {"福田区"}
    assert total == ["", "3", "10", "7", "3"]  # the city's, whatever is found
    counties, _total = _rows(client.get("/stats/areas/", {**page, "q": "440305"}).content.decode())
    assert set(counties) == {"南山区"}
    html = client.get("/stats/areas/", {**page, "q": "没有"}).content.decode()
    assert "No area matches" in html
    assert 'href="/stats/areas/?scope=city%3A440300&amp;date=2026-10-20">Reset</a>' in html


def test_long_lists_come_in_pages_that_keep_the_search(filled, monkeypatch):
    monkeypatch.setattr(registry, "AREAS_PER_PAGE", 1)
    client = client_as(filled.users["nation_approver"])
    query = {"scope": "county:440304", "q": "福田", **DAY}
    first = client.get("/stats/areas/", query).content.decode()
    assert set(_rows(first)[0]) == {"福田一小"}
    assert "Page 1 of 2 (2 areas)" in first
    following = "/stats/areas/?scope=county%3A440304&amp;date=2026-10-20&amp;q=%E7%A6%8F%E7%94%B0"
    assert f'href="{following}&amp;page=2" rel="next"' in first
    second = client.get("/stats/areas/", {**query, "page": 2}).content.decode()
    assert set(_rows(second)[0]) == {"福田二小"}


def test_the_table_exports_to_excel_with_codes_and_what_it_covers(filled):
    client = client_as(filled.users["nation_approver"])
    html = client.get(
        "/stats/areas/", {"scope": "city:440300", "q": "福田", **DAY}
    ).content.decode()
    link = re.search(r'href="(/stats/areas/export/areas\.xlsx\?[^"]*)">', html)
    assert link, "no Excel export"
    response = client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    lines = [
        [cell for cell in row if cell not in (None, "")]
        for row in sheet.iter_rows(values_only=True)
    ]
    assert ["Area", "深圳市"] in lines and ["As of", "2026-10-20"] in lines
    assert ["Name or code", "福田"] in lines
    assert ["County", "Code", "Schools open", "Students on roll", "Boys", "Girls"] in lines
    assert ["福田区", "440304", 2, 10, 7, 3] in lines
    assert ["Total of 深圳市", 3, 10, 7, 3] in lines
    assert not any(line and line[0] == "南山区" for line in lines)


def test_the_counts_take_the_same_statements_for_two_schools_or_twelve(filled):
    client = client_as(filled.users["nation_approver"])
    query = {"scope": "county:440304", **DAY}

    def statements():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/stats/areas/", query).status_code == 200
        return len(captured.captured_queries)

    statements()  # the first request of a session asks more (its session, its membership)
    before = statements()
    county = Division.objects.get(code="440304")
    for _ in range(10):
        SchoolFactory(county=county)
    assert statements() == before


def test_the_home_of_a_province_and_of_the_nation_is_the_drill_down(filled):
    for user in ("guangdong_viewer", "guangdong_approver", "nation_viewer", "nation_approver"):
        response = client_as(filled.users[user]).get("/")
        assert response.status_code == 302 and response["Location"] == "/stats/areas/", user
    # A county's and a city's homes list their schools as before.
    for user in ("futian_viewer", "shenzhen_viewer"):
        response = client_as(filled.users[user]).get("/")
        assert response.status_code == 200
        assert "福田一小" in response.content.decode()


def test_the_api_answers_the_same_areas_with_their_scopes(filled):
    from xueji.testing.api import api_as

    client = api_as(filled.users["nation_approver"], language="en")
    answer = client.get("/api/stats/areas", {"scope": "440300", "q": "福田", **DAY}).json()
    assert answer["target"]["scope"] == "city:440300" and answer["query"] == "福田"
    assert answer["areas"] == [{"label": "福田区", "code": "440304", "scope": "county:440304"}]
    table = answer["tables"][0]
    assert table["columns"] == ["Schools open", "Students on roll", "Boys", "Girls"]
    assert table["rows"] == [
        {"label": "福田区", "total": False, "cells": [2, 10, 7, 3]},
        {"label": "Total of 深圳市", "total": True, "cells": [3, 10, 7, 3]},
    ]
