"""The demo's attendance (issue 22): the rolls of the demo school's classes over the last three
weeks (about 4% absent, reasons and symptoms mixed, a few late), a cough cluster in one class, a
child absent without excuse for the last three school days, then the daily scan — so the morning
page, the area's page, the alerts and a dropout-control case show something on `make run`."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.utils import timezone

from xueji.attendance.calendar import previous_school_days
from xueji.attendance.models import Absence, Portion, Reason, RollCall, Symptom
from xueji.attendance.services.scan import attendance_daily
from xueji.schools.models import School, SchoolClass
from xueji.students.models import Placement

SEED = 22


def attendance_demo(school: School, *, days: int = 15) -> dict[str, Any]:
    rng = random.Random(SEED)
    today = timezone.localdate()
    school_days = previous_school_days(school, today - datetime.timedelta(days=1), days)
    classes = list(SchoolClass.objects.filter(school=school).order_by("grade", "number"))
    pupils: dict[int, list[Any]] = {}
    for class_id, student_id in Placement.objects.filter(
        school=school, end_date__isnull=True
    ).values_list("school_class_id", "student_id"):
        pupils.setdefault(class_id, []).append(student_id)
    rolls: list[RollCall] = []
    absences: list[Absence] = []
    truant = None
    for n, school_class in enumerate(classes):
        children = sorted(pupils.get(school_class.pk, []), key=str)
        if not children:
            continue
        if truant is None and school_class.grade <= 9 and len(children) > 3:
            truant = (school_class, children[0])
        for i, day in enumerate(school_days):
            absent: dict[Any, Absence] = {}
            for child in children:
                if rng.random() < 0.04:
                    reason = rng.choice(
                        [Reason.SICK, Reason.SICK, Reason.PERSONAL, Reason.UNEXCUSED]
                    )
                    absent[child] = Absence(
                        student_id=child,
                        school_class=school_class,
                        school_id=school.pk,
                        day=day,
                        portion=rng.choice(
                            [Portion.FULL, Portion.FULL, Portion.FULL, Portion.LATE]
                        ),
                        reason=reason,
                        symptom=rng.choice(list(Symptom.values)) if reason == Reason.SICK else "",
                    )
            # A cough going round the second class in the last days.
            if n == 1 and i >= len(school_days) - 3:
                for child in children[1 + i % 3 : 2 + i % 3]:
                    absent[child] = Absence(
                        student_id=child,
                        school_class=school_class,
                        school_id=school.pk,
                        day=day,
                        reason=Reason.SICK,
                        symptom=Symptom.COUGH,
                    )
            if truant and truant[0] == school_class and i >= len(school_days) - 3:
                absent[truant[1]] = Absence(
                    student_id=truant[1],
                    school_class=school_class,
                    school_id=school.pk,
                    day=day,
                    reason=Reason.UNEXCUSED,
                )
            absences.extend(absent.values())
            rolls.append(
                RollCall(
                    school_class=school_class,
                    school_id=school.pk,
                    day=day,
                    enrolled=len(children),
                    absent=sum(1 for a in absent.values() if a.portion == Portion.FULL),
                    source="page",
                )
            )
    RollCall.objects.bulk_create(rolls, ignore_conflicts=True)
    Absence.objects.bulk_create(absences, ignore_conflicts=True)
    counts = attendance_daily(on=school_days[-1]) if school_days else {}
    return {"rolls": len(rolls), "absences": len(absences), **counts}
