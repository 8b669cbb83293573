"""A statistics export says what it covers: the area, the date (or school year, or period) and
the dimensions, in its leading lines and in its file and sheet names; and only the roles allowed
to export see the buttons."""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import quote, unquote

import pytest
from python_calamine import CalamineWorkbook

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.students.tests.views.conftest import client_as
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db

DATE = "2026-10-20"


def _filename(response: Any) -> str:
    found = re.search(r"filename\*=UTF-8''([^;]+)", response["Content-Disposition"])
    assert found, response["Content-Disposition"]
    return unquote(found.group(1))


def _xlsx(response: Any) -> tuple[str, list[list[Any]]]:
    assert response.status_code == 200, response.content
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.sheet_names) == 1
    return book.sheet_names[0], book.get_sheet_by_index(0).to_python()


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_xlsx_names_the_area_the_date_and_the_dimensions(filled):
    response = client_as(filled.users["futian_viewer"]).get(
        "/stats/grade-age-sex/export/grade-age-sex.xlsx", {"date": DATE}
    )
    name = "福田区-2026-10-20-Grade×Age×Sex"
    assert _filename(response) == f"{name}.xlsx"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename*=UTF-8''{quote(name + '.xlsx', safe='')}" in disposition
    assert 'filename="grade-age-sex-grade-age-sex-2026-10-20.xlsx"' in disposition  # ASCII
    sheet, rows = _xlsx(response)
    assert sheet == name
    assert rows[0][0] == "Students by grade, age and sex"
    assert [row[:2] for row in rows[1:5]] == [
        ["Area", "福田区"],
        ["As of", DATE],
        ["Dimensions", "Grade×Age×Sex"],
        ["", ""],
    ]
    assert rows[5][:2] == ["Grade", "Total"] and rows[6][:2] == ["Grade 1", 10.0]
    assert any(str(row[0]).startswith("Exported on") for row in rows)


def test_the_csv_says_the_same_in_its_leading_lines(filled):
    lines = _csv(
        client_as(filled.users["futian_viewer"]).get(
            "/stats/grade-age-sex/export/grade-age-sex.csv", {"date": DATE}
        )
    )
    assert lines[:6] == [
        ["Students by grade, age and sex"],
        ["Area", "福田区"],
        ["As of", DATE],
        ["Dimensions", "Grade×Age×Sex"],
        [],
        lines[5],
    ]
    assert lines[5][:2] == ["Grade", "Total"]


def test_in_chinese_the_names_are_chinese(filled):
    response = client_as(filled.users["futian_viewer"], language="zh-hans").get(
        "/stats/grade-age-sex/export/grade-age-sex.xlsx", {"date": DATE}
    )
    assert _filename(response).startswith("福田区-2026-10-20-年级×")
    _sheet, rows = _xlsx(response)
    assert rows[1][:2] == ["统计范围", "福田区"]
    assert rows[5][0] == "年级"
    assert any(str(row[0]).startswith("导出日期") for row in rows)


def test_another_area_chosen_by_a_bureau_is_named(filled):
    client = client_as(filled.users["nation_viewer"])
    response = client.get(
        "/stats/dashboard/export/units.xlsx", {"scope": "county:440305", "date": DATE}
    )
    assert _filename(response) == "南山区-2026-10-20-School×Sex.xlsx"
    response = client.get(
        "/stats/breakdown/export/ethnicity.csv",
        {"scope": f"school:{filled.futian.pk}", "date": "2026-10-01"},
    )
    assert _filename(response) == "福田一小-2026-10-01-Ethnicity×Sex.csv"
    lines = _csv(response)
    assert lines[1] == ["Area", "福田一小"] and lines[2] == ["As of", "2026-10-01"]


def test_annual_and_mobility_exports_name_their_year_and_period(filled):
    client = client_as(filled.users["futian_viewer"])
    annual = client.get("/stats/annual/export/annual-cohorts.csv", {"year": "2026"})
    assert _filename(annual) == "福田区-2026-2027-Cohort.csv"
    lines = _csv(annual)
    assert lines[1] == ["Area", "福田区"] and lines[2] == ["School year", "2026-2027"]
    assert lines[3][0] == "Census date" and lines[4][0] == "Period"
    mobility = client.get(
        "/stats/mobility/export/mobility-matrix.xlsx", {"start": "2026-10-01", "end": DATE}
    )
    assert _filename(mobility) == (
        "福田区-2026-10-01–2026-10-20-Place of origin×Place of destination.xlsx"
    )
    _sheet, rows = _xlsx(mobility)
    assert rows[2][:2] == ["Period", "2026-10-01 – 2026-10-20"]


def test_the_audit_entry_names_the_file(filled):
    client_as(filled.users["futian_viewer"]).get(
        "/stats/grade-age-sex/export/grade-age-sex.csv", {"date": DATE}
    )
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["table"] == "福田区-2026-10-20-Grade×Age×Sex"
    assert (entry.detail["page"], entry.detail["key"]) == ("grade-age-sex", "grade-age-sex")


def test_the_buttons_are_shown_only_to_roles_that_may_export(filled):
    viewer = client_as(filled.users["futian_viewer"]).get("/stats/", {"date": DATE})
    assert "/stats/dashboard/export/grades.xlsx" in viewer.content.decode()

    teacher = member(Role.CLASS_TEACHER, school=filled.futian)
    filled.class_futian.class_teacher = teacher
    filled.class_futian.save(update_fields=["class_teacher"])
    client = client_as(teacher)
    page = client.get("/stats/", {"date": DATE})
    assert page.status_code == 200 and "Students by grade and sex" in page.content.decode()
    assert "/export/" not in page.content.decode()
    refused = client.get("/stats/dashboard/export/grades.xlsx", {"date": DATE})
    assert refused.status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_each_annual_table_of_a_kind_of_school_is_named_after_its_kind(filled):
    # The annual statistics have one grade × age × sex table per kind of school: named only
    # after area, year and dimensions, the six files of a county would be named alike.
    client = client_as(filled.users["futian_viewer"])
    response = client.get("/stats/annual/export/annual-primary.xlsx", {"year": "2026"})
    assert _filename(response) == "福田区-2026-2027-Primary school-Grade×Age×Sex.xlsx"
    _sheet, rows = _xlsx(response)
    assert ["Kind of school", "Primary school"] in [row[:2] for row in rows[1:7]]
    flows = client.get("/stats/annual/export/annual-flows.csv", {"year": "2026"})
    assert "Kind of school" not in [line[0] for line in _csv(flows)[1:7] if line]
