"""A statistics page asked for with a wrong parameter answers 400 with the page itself: the
layout with the menu, what was asked in the picker, the reason next to the wrong field; never a
day after today (ages of 975 on 2999-01-01) nor bare text (issue 20, item 6)."""

from __future__ import annotations

import re

import pytest

from xueji.stats.tests.conftest import HORIZON
from xueji.students.tests.views.conftest import client_as

pytestmark = pytest.mark.django_db


def _page(response, status=400):
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    used = {template.name for template in response.templates}
    assert {"base.html", "access/_nav.html", "stats/_layout.html"} <= used, used
    return response.content.decode()


def _error_of(html, field):
    """The messages shown next to a field (its errorlist, which the field names)."""
    found = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert found, f"no error next to {field}"
    assert f'aria-describedby="id_{field}_error"' in html
    return re.findall(r"<li>(.*?)</li>", found.group(1))


@pytest.mark.parametrize(
    "path", ["/stats/", "/stats/grade-age-sex/", "/stats/breakdown/", "/stats/areas/"]
)
def test_a_day_after_today_is_refused_next_to_the_date(filled, path):
    client = client_as(filled.users["futian_viewer"])
    html = _page(client.get(path, {"date": "2999-01-01"}))
    assert _error_of(html, "date") == [f"The date cannot be after today ({HORIZON.isoformat()})."]
    assert 'value="2999-01-01"' in html  # what was asked, to correct
    assert "975" not in html
    assert "1949-09-01" in _error_of(_page(client.get(path, {"date": "1900-01-01"})), "date")[0]
    assert _error_of(_page(client.get(path, {"date": "not-a-date"})), "date")


def test_a_bad_area_is_refused_next_to_the_area(filled):
    client = client_as(filled.users["futian_viewer"])
    html = _page(client.get("/stats/grade-age-sex/", {"scope": "planet:3"}))
    assert _error_of(html, "scope") == ["There is no such area."]
    assert '<option value="planet:3" selected>' in html
    # A code that names no area is not found, and said so next to the area.
    html = _page(client.get("/stats/", {"scope": "440399"}), 404)
    assert _error_of(html, "scope") == ["No division has the code 440399."]
    html = _page(client.get("/stats/areas/", {"scope": filled.nanshan.code}), 404)
    assert _error_of(html, "scope") == [
        f"There is no school with the code {filled.nanshan.code} in your scope."
    ]


def test_every_wrong_field_is_named_at_once(filled):
    client = client_as(filled.users["guangdong_approver"])
    html = _page(
        client.get("/stats/mobility/", {"start": "2999-01-01", "end": "yesterday", "level": "moon"})
    )
    assert _error_of(html, "start") and _error_of(html, "end") and _error_of(html, "level")


def test_the_mobility_page_says_its_period_is_wrong_next_to_the_start(filled):
    client = client_as(filled.users["guangdong_approver"])
    html = _page(client.get("/stats/mobility/", {"start": "2026-10-02", "end": "2026-10-01"}))
    assert _error_of(html, "start") == ["The period ends before it starts."]
    html = _page(client.get("/stats/mobility/", {"start": "2020-01-01", "end": "2026-10-01"}))
    assert _error_of(html, "start") == ["Choose a period of at most three years."]
    html = _page(client.get("/stats/mobility/", {"end": "2999-01-01"}))
    assert _error_of(html, "end")[0].startswith("The end of the period cannot be after today")


def test_the_picker_keeps_the_area_asked_for_when_another_field_is_wrong(filled):
    client = client_as(filled.users["guangdong_approver"])
    html = _page(client.get("/stats/grade-age-sex/", {"scope": "440304", "date": "2999-01-01"}))
    assert '<option value="county:440304" selected>' in html
    assert "<h1>福田区</h1>" in html


def test_a_school_year_not_begun_is_refused_next_to_the_year(filled):
    client = client_as(filled.users["futian_viewer"])
    html = _page(client.get("/stats/annual/", {"year": "2999"}))
    assert _error_of(html, "year") == ["Statistics exist for school years that have begun."]


def test_an_export_with_a_wrong_day_is_the_page_too(filled):
    client = client_as(filled.users["futian_viewer"])
    response = client.get("/stats/grade-age-sex/export/grade-age-sex.csv", {"date": "2999-01-01"})
    html = _page(response)
    # The picker sends the corrected query to the page, not to the export.
    assert 'action="/stats/grade-age-sex/"' in html


def test_a_parameter_the_page_does_not_read_is_not_checked(filled):
    client = client_as(filled.users["futian_viewer"])
    assert client.get("/stats/", {"year": "abc", "start": "x"}).status_code == 200
