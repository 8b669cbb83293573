"""The statistics pages: figures, definitions, pickers, charts' data, scope, exports."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest

from xueji.students.tests.views.conftest import client_as

pytestmark = pytest.mark.django_db

PAGES = [
    "/stats/",
    "/stats/grade-age-sex/",
    "/stats/breakdown/",
    "/stats/annual/",
    "/stats/mobility/",
]


def chart_data(response, key):
    html = response.content.decode()
    found = re.search(
        rf'<script id="chart-data-{key}" type="application/json">(.*?)</script>', html
    )
    assert found, f"no chart {key}"
    return json.loads(found.group(1))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_for_its_own_area_with_charts_and_the_echarts_script(filled, path):
    response = client_as(filled.users["futian_viewer"]).get(path, {"date": "2026-10-20"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "福田区" in html
    assert "/static/vendor/echarts.min.js" in html and "/static/js/stats.js" in html
    assert 'data-chart="' in html
    # No inline script: charts read JSON data blocks.
    assert not re.search(r"<script(?![^>]*(src=|application/json))[^>]*>", html)


def test_the_dashboard_shows_the_figures_with_their_definitions(filled):
    response = client_as(filled.users["futian_viewer"]).get("/stats/", {"date": "2026-10-20"})
    html = response.content.decode()
    assert re.search(r'id="figure-on_roll"[^>]*><span class="stat-value">10<', html)
    assert "Transfers in" in html and "Left-behind children (留守儿童)" in html
    grades = chart_data(response, "grades")
    assert grades["series"][0]["data"] == [7] and grades["series"][1]["data"] == [3]
    units = chart_data(response, "units")
    assert dict(zip(units["categories"], units["series"][0]["data"], strict=True)) == {
        "福田一小": 10
    }


def test_a_schools_own_page_lists_its_classes(filled):
    response = client_as(filled.users["principal_futian"]).get("/stats/", {"date": "2026-10-20"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "福田一小" in html and "Students on roll by class" in html
    assert "Grade 1 1班" in html and "Grade 1 2班" in html


def test_the_area_picker_offers_the_path_and_the_areas_below(filled):
    response = client_as(filled.users["shenzhen_viewer"]).get("/stats/grade-age-sex/")
    html = response.content.decode()
    assert 'value="city:440300" selected' in html
    assert 'value="county:440304"' in html and 'value="county:440305"' in html
    assert 'value="province:440000"' not in html  # above the viewer's own area


def test_an_area_outside_the_scope_is_404_and_a_bad_one_400(filled):
    client = client_as(filled.users["futian_viewer"])
    for path in PAGES:
        assert client.get(path, {"scope": "county:440305"}).status_code == 404
        assert client.get(path, {"scope": f"school:{filled.nanshan.pk}"}).status_code == 404
        assert client.get(path, {"scope": "planet:3"}).status_code == 400
    assert client.get("/stats/", {"date": "not-a-date"}).status_code == 400
    assert (
        client.get("/stats/mobility/", {"start": "2026-10-02", "end": "2026-10-01"}).status_code
        == 400
    )


def test_roles_without_head_counts_are_refused_and_anonymous_users_sent_to_log_in(filled):
    assert client_as(filled.users["subject_teacher"]).get("/stats/").status_code == 403
    from django.test import Client

    response = Client().get("/stats/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_viewers_above_the_county_see_small_cells_hidden_with_the_note(filled):
    response = client_as(filled.users["guangdong_viewer"]).get(
        "/stats/grade-age-sex/", {"scope": "county:440304", "date": "2026-10-20"}
    )
    html = response.content.decode()
    assert 'class="num suppressed">&lt;5</td>' in html
    assert "shown as “&lt;5”" in html
    # Charts do not draw hidden figures.
    pyramid = chart_data(response, "pyramid")
    assert None in pyramid["series"][1]["data"]


def test_mobility_page_has_the_sankey_links(filled):
    response = client_as(filled.users["guangdong_approver"]).get(
        "/stats/mobility/", {"start": "2026-09-01", "end": "2026-12-31"}
    )
    sankey = chart_data(response, "sankey")
    assert sankey["links"] == [{"source": "南山区 ▸", "target": "▸ 福田区", "value": 1}]


def test_csv_export_of_a_table(filled):
    client = client_as(filled.users["futian_viewer"])
    response = client.get("/stats/grade-age-sex/export/grade-age-sex.csv", {"date": "2026-10-20"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # streamed
    lines = list(csv.reader(io.StringIO(body)))
    # The title, what the table covers (xueji.stats.tests.views.test_export_coverage), a blank
    # line, then the header.
    header = lines.index([]) + 1
    assert lines[header][:2] == ["Grade", "Total"]
    assert lines[header + 1][:2] == ["Grade 1", "10"]


def test_xlsx_export_keeps_the_suppression(filled):
    client = client_as(filled.users["nation_viewer"])
    response = client.get(
        "/stats/grade-age-sex/export/grade-age-sex.xlsx",
        {"scope": "county:440304", "date": "2026-10-20"},
    )
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as book:
        # Written in constant-memory mode: strings are inline in the sheet.
        strings = book.read("xl/worksheets/sheet1.xml").decode()
    assert "&lt;5" in strings


def test_exports_answer_404_outside_the_scope_or_for_an_unknown_table(filled):
    client = client_as(filled.users["futian_viewer"])
    url = "/stats/grade-age-sex/export/grade-age-sex.csv"
    assert client.get(url, {"scope": "county:440305"}).status_code == 404
    assert client.get("/stats/grade-age-sex/export/nothing.csv").status_code == 404
    assert client.get("/stats/grade-age-sex/export/grade-age-sex.pdf").status_code == 404
    assert client.get("/stats/breakdown/export/ethnicity.xlsx").status_code == 200
    assert client.get("/stats/mobility/export/mobility-net.csv").status_code == 200
    assert client.get("/stats/annual/export/annual-cohorts.csv").status_code == 200
    assert client.get("/stats/dashboard/export/units.csv").status_code == 200


def test_pages_are_chinese_by_default(filled):
    response = client_as(filled.users["futian_viewer"], language="zh-hans").get("/stats/")
    html = response.content.decode()
    assert "在籍学生" in html and "统计" in html
