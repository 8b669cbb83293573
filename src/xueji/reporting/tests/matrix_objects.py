"""The reporting objects the permission-matrix test (xueji.access.tests.test_matrix) names: a
report of the place's school in a national round, and the bodies of the endpoints."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from xueji.reporting.models import ReportRound, UnitReport

MATRIX_ROUND = "权限矩阵测试"


def _round(place: Any) -> ReportRound:
    found = ReportRound.objects.filter(title=MATRIX_ROUND).first()
    if found is not None:
        return found
    day = timezone.localdate() - datetime.timedelta(days=7)
    return ReportRound.objects.create(
        title=MATRIX_ROUND,
        level="nation",
        census_date=day,
        tables=["grade_age_sex", "boarding", "movement"],
        deadline_school=day,
        deadline_county=day,
        deadline_city=day,
        deadline_province=day,
        deadline_nation=day,
        opened_by=place.student.events.first().actor,
    )


def unit(place: Any) -> UnitReport:
    """The report of the place's school, under its county's (made once a place)."""
    report_round = _round(place)
    county = UnitReport.objects.get_or_create(
        round=report_round, level="county", division_id=place.county.code
    )[0]
    return UnitReport.objects.get_or_create(
        round=report_round, level="school", school=place.school, defaults={"parent": county}
    )[0]


def bodies(place: Any) -> dict[str, Any]:
    day = timezone.localdate() - datetime.timedelta(days=7)
    later = (day + datetime.timedelta(days=30)).isoformat()
    return {
        "report_open_round": lambda: {
            "title": "矩阵",
            "census_date": day.isoformat(),
            "tables": ["grade_age_sex"],
            "deadline_school": later,
            "deadline_county": later,
            "deadline_city": later,
            "deadline_province": later,
            "deadline_nation": later,
        },
        "report_prepare": lambda: {},
        "report_confirm": lambda: {},
        "report_return": lambda: {"reason": "矩阵"},
        "report_revision_request": lambda: {"reason": "矩阵"},
        "report_revision_decide": lambda: {"approve": True},
    }
