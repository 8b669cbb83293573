"""The attendance part of the API fuzzer's registry (xueji.core.tests.api.fuzz_world): J's class
with its last school day's roll to take (a reason given, for a day past the class teacher's
window), a card system's file of that day, an open case of one of J's pupils for the county to
log a step on and close, and the county's code for its rates."""

from __future__ import annotations

import datetime
from typing import Any

from xueji.access.scope import today
from xueji.attendance.calendar import previous_school_days
from xueji.attendance.models import BusRider, BusRoute, BusStop, DropoutCase, Trigger
from xueji.students.models import Student

# The province's dropout-control settings: no fuzzer account (a school's, a county's) holds them;
# xueji.attendance's tests read and save them through the API.
EXCLUDED = {
    f"{method} /api/attendance/settings/{{province_code}}": (
        "a province's or the ministry's setting (attendance.settings)"
    )
    for method in ("GET", "POST")
}


def rows(*, junior: Any, grade8: Any, pupils: list[Any]) -> list[dict[str, Any]]:
    days = previous_school_days(junior, today(), 1)
    day = days[-1] if days else today()
    child = pupils[0]
    case = DropoutCase.objects.create(
        student=child,
        name=child.name,
        sex=child.sex,
        birth_date=child.birth_date,
        school=junior,
        county_id=junior.county_id,
        trigger=Trigger.UNEXCUSED_RUN,
        opened_on=day,
        deadline=day + datetime.timedelta(days=14),
    )
    # A school bus route of J with one stop and the child on it (its record says it needs one).
    Student.objects.filter(pk=child.pk).update(needs_school_bus=True)
    route = BusRoute.objects.create(school=junior, name="一号线", vehicle="粤B12345")
    stop = BusStop.objects.create(route=route, order=1, name="村口")
    BusRider.objects.create(route=route, stop=stop, student=child, start_date=day)
    return [
        {
            "bus_route_id": route.pk,
            "day": day.isoformat(),
            "trip": "am",
            "boarded": [str(child.pk)],
            "taps": [
                {
                    "route_id": route.pk,
                    "day": day.isoformat(),
                    "trip": "am",
                    "student_id": str(child.pk),
                }
            ],
        },
        {
            "class_id": grade8.pk,
            "day": day.isoformat(),
            "absences": [{"student_id": str(child.pk), "reason": "personal"}],
            "reason": "补录",
        },
        {
            "file": (
                "date,class_id,student_number,portion,reason,symptom,note\n"
                f"{day.isoformat()},{grade8.pk},,,,,\n"
            ).encode(),
        },
        {"case_id": str(case.pk), "kind": "call", "outcome": "reached", "end": "returned"},
        {"county": junior.county_id, "school_id": junior.pk},
    ]
