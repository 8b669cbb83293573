"""Objects and bodies of attendance for the permission matrix (xueji.access.tests.test_matrix)."""

from __future__ import annotations

import datetime
from typing import Any

# API endpoints of attendance that take a file.
MULTIPART = {"post_roll_csv"}


def case(place: Any) -> Any:
    """An open dropout-control case of the place's child (made once a place)."""
    from xueji.attendance.models import DropoutCase, Trigger

    found = DropoutCase.objects.filter(student=place.student).first()
    if found is not None:
        return found
    return DropoutCase.objects.create(
        student=place.student,
        name=place.student.name,
        sex=place.student.sex,
        birth_date=place.student.birth_date,
        school=place.school,
        county=place.county,
        trigger=Trigger.UNEXCUSED_RUN,
        opened_on=datetime.date(2026, 9, 14),
        deadline=datetime.date(2026, 9, 28),
    )


def bus_route(place: Any) -> Any:
    """A bus route of the place's school with one stop and the place's child on it (another
    class's route is outside for a teacher: it carries none of the teacher's pupils)."""
    from xueji.attendance.models import BusRider, BusRoute, BusStop
    from xueji.students.models import Student

    found = BusRoute.objects.filter(school=place.school, riders__student=place.student).first()
    if found is not None:
        return found
    route = BusRoute.objects.create(school=place.school, name="一号线", vehicle="粤B12345")
    stop = BusStop.objects.create(route=route, order=1, name="村口")
    Student.objects.filter(pk=place.student.pk).update(needs_school_bus=True)
    BusRider.objects.create(
        route=route, stop=stop, student=place.student, start_date=datetime.date(2026, 9, 1)
    )
    return route


def bodies(place: Any) -> dict[str, Any]:
    """Bodies for the endpoints that take one (refused by field, or harmless, once allowed)."""
    return {
        "post_roll": lambda: {"day": "2026-09-13", "absences": []},
        "post_roll_csv": lambda: {},
        "post_step": lambda: {"kind": "call", "outcome": "reached"},
        "post_close": lambda: {"end": "lost_contact"},
        "post_attendance_settings": lambda: {"unexcused_run_days": 0},
        # A Sunday: refused by field (400) once allowed.
        "post_bus_check": lambda: {"day": "2026-09-13", "trip": "am", "boarded": []},
        "post_bus_taps": lambda: {"taps": []},
    }
