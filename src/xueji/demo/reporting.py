"""The demo's statistics report (issue 26): a round of the demo province opened by its bureau
approver with the census date yesterday, every school's report prepared from the registry, and
the demo school's confirmed by its principal, so that the reporting pages show every state on
`make run`."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from xueji.reporting.models import ReportTable, UnitReport
from xueji.reporting.services import round_open, unit_confirm
from xueji.schools.models import School


def reporting_demo(school: School) -> None:
    users = get_user_model().objects
    census = timezone.localdate() - datetime.timedelta(days=1)
    due = census + datetime.timedelta(days=14)
    report_round = round_open(
        actor=users.get(username="province_approver"),
        title="演示：本学期事业统计上报",
        census_date=census,
        tables=list(ReportTable.values),
        deadlines={
            "school": due,
            "county": due + datetime.timedelta(days=5),
            "city": due + datetime.timedelta(days=10),
            "province": due + datetime.timedelta(days=15),
        },
        province_code=school.province_id,
        prefill=True,
    )
    unit = UnitReport.objects.get(round=report_round, school=school)
    unit_confirm(actor=users.get(username="principal"), unit_id=unit.pk)
