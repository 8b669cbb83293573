"""The school calendar: a school day is a day of a term of the academic year (xueji.schools),
a working day of the Chinese calendar (national holidays off, make-up days (调休) on, through
chinesecalendar as the deadlines of changes use it), and no closure day of the school's county
or of the school itself (set on the calendar page)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Q

from xueji.attendance.models import ClosureDay
from xueji.changes.windows import is_working_day
from xueji.schools.models import AcademicYear, School, Term, academic_start_year
from xueji.schools.services import terms_of


def term_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date] | None:
    """The first and last day of the term holding `day`, or None outside every term. A year
    without terms saved has the schools app's default two terms."""
    start_year = academic_start_year(day)
    terms = list(Term.objects.filter(academic_year__start_year=start_year))
    if not terms:
        terms = terms_of(AcademicYear(start_year=start_year))
    for term in terms:
        if term.start_date <= day <= term.end_date:
            return term.start_date, term.end_date
    return None


def _in_terms(days: Iterable[datetime.date]) -> set[datetime.date]:
    found: set[datetime.date] = set()
    cache: dict[int, list[tuple[datetime.date, datetime.date]]] = {}
    for day in days:
        start_year = academic_start_year(day)
        if start_year not in cache:
            terms = list(Term.objects.filter(academic_year__start_year=start_year)) or terms_of(
                AcademicYear(start_year=start_year)
            )
            cache[start_year] = [(t.start_date, t.end_date) for t in terms]
        if any(a <= day <= b for a, b in cache[start_year]):
            found.add(day)
    return found


def closures(school: School, start: datetime.date, end: datetime.date) -> set[datetime.date]:
    return set(
        ClosureDay.objects.filter(
            Q(county_id=school.county_id) | Q(school_id=school.pk), day__gte=start, day__lte=end
        ).values_list("day", flat=True)
    )


def school_days(school: School, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The school's school days from `start` to `end`, both included, in order."""
    span = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    working = [day for day in span if is_working_day(day)]
    in_terms = _in_terms(working)
    closed = closures(school, start, end)
    return [day for day in working if day in in_terms and day not in closed]


def roll_window(
    school: School, day: datetime.date, *, limit: int = 60
) -> tuple[bool, datetime.date]:
    """Is `day` a school day, and until when may its roll be changed by the class teacher (the
    next school day): both from one look at the calendar."""
    days = school_days(school, day, day + datetime.timedelta(days=limit))
    following = [d for d in days if d > day]
    if following:
        return bool(days and days[0] == day), following[0]
    return bool(days and days[0] == day), next_school_day(school, day, limit=limit)


def is_school_day_of(school: School, day: datetime.date) -> bool:
    return bool(school_days(school, day, day))


def next_school_day(school: School, day: datetime.date, *, limit: int = 60) -> datetime.date:
    """The first school day after `day` (the end of the class teacher's correction window);
    within `limit` days, else the next working day."""
    days = school_days(
        school, day + datetime.timedelta(days=1), day + datetime.timedelta(days=limit)
    )
    if days:
        return days[0]
    following = day + datetime.timedelta(days=1)
    while not is_working_day(following):
        following += datetime.timedelta(days=1)
    return following


def previous_school_days(school: School, day: datetime.date, count: int) -> list[datetime.date]:
    """The `count` school days up to and including `day`, oldest first (fewer at a year's start)."""
    found: list[datetime.date] = []
    end = day
    for _ in range(12):
        start = end - datetime.timedelta(days=max(count * 2, 14))
        found = school_days(school, start, end) + found
        if len(found) >= count:
            return found[-count:]
        end = start - datetime.timedelta(days=1)
    return found
