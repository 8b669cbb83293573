"""The statistics reports the API fuzzer (xueji.core.tests.api.fuzz_world) works on, for its
school registrar and its county's approver in 福田区 (440304):

- a round whose reports are all not started: J's report, which its registrar prepares;
- a round whose schools' reports are all prepared and 福田区's confirmed: J's report, which the
  county returns and its registrar asks to revise; 福田区's report, which the county confirms;
  P's report, with a revision waiting for the county's decision."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.reporting.models import UnitReport, UnitState
from xueji.reporting.services import revision_request, round_open, unit_confirm
from xueji.testing.factories import member

TABLES = ["grade_age_sex", "boarding", "movement"]


def rows(*, junior: Any, primary: Any, primary_registrar: Any) -> list[dict[str, Any]]:
    province = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=junior.province_id))
    census = timezone.localdate() - datetime.timedelta(days=1)
    due = census + datetime.timedelta(days=30)
    deadlines = {"school": due, "county": due, "city": due, "province": due}

    def opened(prefill: bool) -> Any:
        return round_open(
            actor=province,
            title="模糊测试",
            census_date=census,
            tables=TABLES,
            deadlines=deadlines,
            province_code=junior.province_id,
            prefill=prefill,
        )

    first = opened(False)
    second = opened(True)
    county = UnitReport.objects.get(round=second, level="county", division_id=junior.county_id)
    for unit in UnitReport.objects.filter(parent=county).select_related("school"):
        principal = member(Role.PRINCIPAL, school=unit.school)
        unit_confirm(actor=principal, unit_id=unit.pk)
    waiting = UnitReport.objects.get(round=second, school=primary)
    revision_request(actor=primary_registrar, unit_id=waiting.pk, reason="更正寄宿生人数")
    assert county.state == UnitState.NOT_STARTED
    return [
        {"unit_id": UnitReport.objects.get(round=first, school=junior).pk},
        {"unit_id": UnitReport.objects.get(round=second, school=junior).pk, "reason": "人数有误"},
        {"unit_id": county.pk},
        {"unit_id": waiting.pk, "approve": True, "note": ""},
    ]
