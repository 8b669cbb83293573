"""Rates per county and date (控辍保学): counts and the official rates, each computed only from
dated facts (placements' dates, hollow periods, cases' opening, closing and confirmation dates),
so the figures of a past date do not change with later writes.

Definitions (教育统计):
- 入学率 (enrolment rate): children of compulsory-school age in school ÷ children of that age.
  The registry knows the children of an age only through the records and the cases of children
  with no record (identity's population roll): the denominator here is children enrolled in
  grades 1–9 + the children of open cases who are on no school's roll.
- 巩固率 (nine-year consolidation rate): the graduates of grade 9 this year ÷ the pupils who
  entered grade 1 nine years earlier. It needs nine years of records; before the registry holds
  them it is not given.
- 辍学率 (dropout rate): children whose dropping out (辍学) the county confirmed in the school year
  up to the date ÷ children enrolled in grades 1–9 at the start of the school year.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Min, Q

from xueji.attendance.models import CaseEnd, DropoutCase, HollowPeriod
from xueji.schools.models import academic_start_year
from xueji.students.models import Placement, PlacementReason


def _covering(day: datetime.date) -> Q:
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gt=day))


def _enrolled(county: str, day: datetime.date) -> int:
    return (
        Placement.objects.filter(
            _covering(day), school__county_id=county, grade__gte=1, grade__lte=9
        )
        .values("student_id")
        .distinct()
        .count()
    )


@dataclass(frozen=True)
class Rates:
    county: str
    on: datetime.date
    enrolled: int
    absent_long_term: int
    open_cases: int
    opened_in_month: int
    returned_in_month: int
    dropped_out_in_year: int
    enrolled_at_year_start: int
    unrecorded_open: int
    enrolment_rate: float | None
    dropout_rate: float | None
    consolidation_rate: float | None
    consolidation_note: str
    history_from: datetime.date | None


def county_rates(county: str, on: datetime.date) -> Rates:
    year_start = datetime.date(academic_start_year(on), 9, 1)
    month_start = on.replace(day=1)
    cases = DropoutCase.objects.filter(county_id=county, opened_on__lte=on)
    open_at = cases.filter(Q(closed_on__isnull=True) | Q(closed_on__gt=on))
    enrolled = _enrolled(county, on)
    unrecorded = open_at.filter(student__isnull=True).count()
    not_on_roll = (
        open_at.filter(student__isnull=False)
        .exclude(student_id__in=Placement.objects.filter(_covering(on)).values("student_id"))
        .count()
    )
    dropped = cases.filter(
        dropout_confirmed_on__gte=year_start, dropout_confirmed_on__lte=on
    ).count()
    at_start = _enrolled(county, year_start)
    history = Placement.objects.filter(school__county_id=county).aggregate(first=Min("start_date"))[
        "first"
    ]
    consolidation: float | None = None
    note = ""
    nine_years_before = datetime.date(year_start.year - 9, 9, 1)
    if history is None or history > nine_years_before:
        note = "nine_years"
    else:
        entrants = (
            Placement.objects.filter(
                school__county_id=county,
                grade=1,
                reason__in=[PlacementReason.REGISTRATION, PlacementReason.INTAKE],
                start_date__gte=nine_years_before,
                start_date__lt=datetime.date(year_start.year - 8, 9, 1),
            )
            .values("student_id")
            .distinct()
            .count()
        )
        graduates = (
            Placement.objects.filter(
                school__county_id=county,
                grade=9,
                start_date__lte=on,
                start_date__gte=datetime.date(year_start.year - 1, 9, 1),
                end_date__isnull=False,
                end_date__lte=on,
            )
            .values("student_id")
            .distinct()
            .count()
        )
        consolidation = round(100 * graduates / entrants, 2) if entrants else None
    return Rates(
        county=county,
        on=on,
        enrolled=enrolled,
        absent_long_term=HollowPeriod.objects.filter(_covering(on), school__county_id=county)
        .values("student_id")
        .distinct()
        .count(),
        open_cases=open_at.count(),
        opened_in_month=cases.filter(opened_on__gte=month_start).count(),
        returned_in_month=cases.filter(
            closed_on__gte=month_start, closed_on__lte=on, end=CaseEnd.RETURNED
        ).count(),
        dropped_out_in_year=dropped,
        enrolled_at_year_start=at_start,
        unrecorded_open=unrecorded,
        enrolment_rate=(
            round(100 * enrolled / (enrolled + unrecorded + not_on_roll), 2)
            if enrolled + unrecorded + not_on_roll
            else None
        ),
        dropout_rate=round(100 * dropped / at_start, 3) if at_start else None,
        consolidation_rate=consolidation,
        consolidation_note=note,
        history_from=history,
    )


def months_of_rates(county: str, until: datetime.date, months: int = 6) -> list[Rates]:
    """The rates at the end of each of the last `months` months (the last one: `until`)."""
    ends = [until]
    cursor = until.replace(day=1)
    for _ in range(months - 1):
        cursor -= datetime.timedelta(days=1)
        ends.append(cursor)
        cursor = cursor.replace(day=1)
    return [county_rates(county, end) for end in reversed(ends)]


def open_cases_by_trigger(county: str, on: datetime.date) -> dict[str, int]:
    return dict(
        DropoutCase.objects.filter(county_id=county, opened_on__lte=on)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=on))
        .values_list("trigger")
        .annotate(n=Count("pk"))
    )
