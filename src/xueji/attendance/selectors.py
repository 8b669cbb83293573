"""Reads of attendance that other capabilities build on (welfare's meals, identity's hand-over,
the archive's years of schooling, reporting's checks). Each is one indexed query; none checks
permissions (callers read for their own, already allowed, purpose)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import Q

from xueji.attendance.calendar import is_school_day_of
from xueji.attendance.models import Absence, HollowPeriod, Portion, RollCall
from xueji.schools.models import School


def is_school_day(*, school_id: int, day: datetime.date) -> bool:
    """Is `day` a school day at this school (a term's working day, not closed)?"""
    school = School.objects.filter(pk=school_id).first()
    return school is not None and is_school_day_of(school, day)


def roll_taken(*, school_class_id: int, day: datetime.date) -> bool:
    """Did the class take the roll that day? (A day without one is never "all present".)"""
    return RollCall.objects.filter(school_class_id=school_class_id, day=day).exists()


def absent_student_ids(*, school_class_id: int, day: datetime.date) -> set[uuid.UUID]:
    """The children of the class absent the whole day; empty when no roll was taken (ask
    roll_taken). Half days and late arrivals are present for this question."""
    return set(
        Absence.objects.filter(
            school_class_id=school_class_id, day=day, portion=Portion.FULL
        ).values_list("student_id", flat=True)
    )


def full_day_absences_between(
    *, start: datetime.date, end: datetime.date, school_ids: Any
) -> set[tuple[uuid.UUID, datetime.date]]:
    """(child, day) for every whole-day absence at the schools (ids, or a query of ids) from
    start to end, both included: one query where a check over a term and a county would
    otherwise ask absent_student_ids once per class and day."""
    return set(
        Absence.objects.filter(
            day__gte=start, day__lte=end, school_id__in=school_ids,
            portion=Portion.FULL,
        ).values_list("student_id", "day")
    )  # fmt: skip


def hollow_student_ids(*, on: datetime.date) -> set[uuid.UUID]:
    """The records flagged as hollow (空挂) on that date."""
    return set(
        HollowPeriod.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gt=on), start_date__lte=on
        ).values_list("student_id", flat=True)
    )


def hollow_periods(*, student_id: uuid.UUID) -> list[tuple[datetime.date, datetime.date | None]]:
    """The periods a record was flagged hollow: (from, until-exclusive or None while it is)."""
    return list(
        HollowPeriod.objects.filter(student_id=student_id)
        .order_by("start_date")
        .values_list("start_date", "end_date")
    )
