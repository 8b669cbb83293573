"""Reads behind the pages: the class teacher's roll sheet, the principal's morning, the county's
day, the cases and their monthly ledger (动态清零台账), the rates, hollow records and guests.
Each read is scoped by the caller's user (xueji.access.scope) and set-based (a few grouped
queries per page, whatever the number of children)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q, Sum
from django.utils.translation import gettext as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action, Limit, limit
from xueji.access.scope import may, schools_visible, scope_of
from xueji.attendance.calendar import (
    is_school_day_of,
    previous_school_days,
    school_days,
)
from xueji.attendance.models import (
    OPEN_CASE_STATES,
    Absence,
    CaseEnd,
    CaseState,
    DropoutCase,
    Guest,
    HollowPeriod,
    Portion,
    Reason,
    RollCall,
    SymptomAlert,
    Trigger,
)
from xueji.attendance.services.cases import case_in_area, cases_visible_q
from xueji.attendance.services.roll import correction_deadline
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolClass, academic_start_year
from xueji.students.models import Placement, Student

REASONS = [Reason.SICK, Reason.PERSONAL, Reason.UNEXCUSED, Reason.OTHER]


def _covering(day: datetime.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}start_date__lte": day}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gt": day})
    )


# ---- the class teacher's roll ---------------------------------------------------------------


def classes_to_take(user: Any, on: datetime.date) -> list[dict[str, Any]]:
    """The classes whose roll the user takes (the class teacher's own, the registrar's whole
    school) in the school year of `on`, with whether the roll of `on` is taken."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.ATTENDANCE_TAKE) or scope.school_id is None:
        return []
    classes = SchoolClass.objects.filter(
        school_id=scope.school_id, academic_year__start_year=academic_start_year(on)
    )
    if limit(scope.role, Action.ATTENDANCE_TAKE) == Limit.OWN_CLASSES:
        classes = classes.filter(class_teacher_id=user.pk)
    taken = dict(
        RollCall.objects.filter(school_class__in=classes, day=on).values_list(
            "school_class_id", "absent"
        )
    )
    return [
        {"class": c, "taken": c.pk in taken, "absent": taken.get(c.pk)}
        for c in classes.order_by("grade", "number")
    ]


def class_for_roll(user: Any, class_id: int) -> SchoolClass | None:
    scope = scope_of(user)
    if scope is None or not may(scope, Action.ATTENDANCE_TAKE) or scope.school_id is None:
        return None
    found = SchoolClass.objects.select_related("school").filter(
        pk=class_id, school_id=scope.school_id
    )
    if limit(scope.role, Action.ATTENDANCE_TAKE) == Limit.OWN_CLASSES:
        found = found.filter(class_teacher_id=user.pk)
    return found.first()


@dataclass
class RollSheet:
    school_class: SchoolClass
    day: datetime.date
    school_day: bool
    taken: bool
    deadline: datetime.date
    late: bool
    children: list[dict[str, Any]]


def roll_sheet(user: Any, school_class: SchoolClass, day: datetime.date) -> RollSheet:
    """The class's children on `day` (placed and guests), each with its absence if any."""
    from xueji.attendance.services.roll import class_roll_ids

    ids = class_roll_ids(school_class.pk, day)
    guests = set(
        Guest.objects.filter(_covering(day), school_class=school_class).values_list(
            "student_id", flat=True
        )
    )
    absences = {a.student_id: a for a in Absence.objects.filter(school_class=school_class, day=day)}
    children = [
        {
            "id": str(s.pk),
            "name": s.name,
            "guest": s.pk in guests,
            "absence": absences.get(s.pk),
        }
        for s in Student.objects.filter(pk__in=ids).order_by("name_pinyin", "pk")
    ]
    from django.utils import timezone

    deadline = correction_deadline(school_class, day)
    return RollSheet(
        school_class=school_class,
        day=day,
        school_day=is_school_day_of(school_class.school, day),
        taken=RollCall.objects.filter(school_class=school_class, day=day).exists(),
        deadline=deadline,
        late=timezone.localdate() > deadline,
        children=children,
    )


# ---- the principal's morning ----------------------------------------------------------------


def school_for_view(user: Any, school_id: int | None) -> School | None:
    """The school of a school-level user, or one of a bureau's area (asked by id)."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.ATTENDANCE_VIEW):
        return None
    if scope.level == ScopeLevel.SCHOOL:
        return School.objects.filter(pk=scope.school_id or 0).first()
    if school_id is None:
        return None
    return School.objects.filter(
        schools_visible(scope, Action.ATTENDANCE_VIEW), pk=school_id
    ).first()


@dataclass
class Morning:
    school: School
    day: datetime.date
    school_day: bool
    classes: list[dict[str, Any]]
    absent: list[dict[str, Any]]
    totals: dict[str, int]
    enrolled: int
    not_taken: list[SchoolClass]
    trend: dict[str, Any]
    alerts: list[SymptomAlert]


def morning(school: School, day: datetime.date, *, weeks: int = 4) -> Morning:
    """Who is absent today and why, by class, against the last weeks."""
    classes = list(
        SchoolClass.objects.filter(
            school=school, academic_year__start_year=academic_start_year(day)
        ).order_by("grade", "number")
    )
    enrolled_by_class = dict(
        Placement.objects.filter(_covering(day), school=school)
        .values("school_class_id")
        .annotate(n=Count("pk"))
        .values_list("school_class_id", "n")
    )
    rolls = dict(
        RollCall.objects.filter(school=school, day=day).values_list("school_class_id", "pk")
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = []
    absences = (
        Absence.objects.filter(school=school, day=day)
        .select_related("student", "school_class")
        .order_by("school_class__grade", "school_class__number", "student__name_pinyin")
    )
    for a in absences:
        key = a.reason if a.portion == Portion.FULL else a.portion
        counts[a.school_class_id][key] += 1
        rows.append(
            {
                "name": a.student.name,
                "class": a.school_class,
                "reason": a.get_reason_display(),
                "reason_code": a.reason,
                "symptom": a.get_symptom_display() if a.symptom else "",
                "portion": a.get_portion_display(),
                "note": a.note,
            }
        )
    table = []
    totals: dict[str, int] = defaultdict(int)
    for c in classes:
        row_counts = counts.get(c.pk, {})
        absent = sum(row_counts.get(r, 0) for r in REASONS)
        table.append(
            {
                "class": c,
                "enrolled": enrolled_by_class.get(c.pk, 0),
                "taken": c.pk in rolls,
                "counts": [row_counts.get(r, 0) for r in REASONS],
                "half": row_counts.get(Portion.MORNING, 0) + row_counts.get(Portion.AFTERNOON, 0),
                "late": row_counts.get(Portion.LATE, 0),
                "absent": absent,
            }
        )
        for r in REASONS:
            totals[r] += row_counts.get(r, 0)
        totals["absent"] += absent
    school_day = is_school_day_of(school, day)
    not_taken = [c for c in classes if c.pk not in rolls] if school_day else []
    days = previous_school_days(school, day, weeks * 5)
    return Morning(
        school=school,
        day=day,
        school_day=school_day,
        classes=table,
        absent=rows,
        totals=dict(totals),
        enrolled=sum(enrolled_by_class.values()),
        not_taken=not_taken,
        trend=_trend(Q(school=school), days),
        alerts=list(
            SymptomAlert.objects.filter(
                school=school, last_day__gte=day - datetime.timedelta(days=14), last_day__lte=day
            ).select_related("school_class")
        ),
    )


def _trend(where: Q, days: list[datetime.date]) -> dict[str, Any]:
    """Whole-day absences per school day by reason, and the rate among the children of the
    classes that took the roll (a chart's data: static/js/stats.js)."""
    if not days:
        return {}
    by_day: dict[tuple[datetime.date, str], int] = {
        (row["day"], row["reason"]): row["n"]
        for row in Absence.objects.filter(where, day__in=days, portion=Portion.FULL)
        .values("day", "reason")
        .annotate(n=Count("pk"))
    }
    enrolled = dict(
        RollCall.objects.filter(where, day__in=days)
        .values("day")
        .annotate(n=Sum("enrolled"))
        .values_list("day", "n")
    )
    labels = {r: str(Reason(r).label) for r in REASONS}
    series = [
        {"name": labels[r], "stack": "reason", "data": [by_day.get((d, r), 0) for d in days]}
        for r in REASONS
    ]
    rates = []
    for d in days:
        absent = sum(by_day.get((d, r), 0) for r in REASONS)
        rates.append(round(100 * absent / enrolled[d], 1) if enrolled.get(d) else None)
    return {
        "type": "bar",
        "title": _("Absent the whole day, by reason, over the last school days"),
        "categories": [d.strftime("%m-%d") for d in days],
        "series": series,
        "rates": rates,
    }


# ---- the county's day -------------------------------------------------------------------------


@dataclass
class AreaDay:
    day: datetime.date
    schools: list[dict[str, Any]]
    no_roll: list[School]
    totals: dict[str, Any]
    alerts: list[SymptomAlert]
    counties: list[Division] = field(default_factory=list)


def area_day(user: Any, day: datetime.date, *, county: str = "", limit_rows: int = 300) -> AreaDay:
    """Absence rates by school and reason in the user's area, and the schools that took no roll
    on a school day."""
    scope = scope_of(user)
    schools_q = schools_visible(scope, Action.ATTENDANCE_VIEW) & Q(closed_on__isnull=True)
    if county:
        schools_q &= Q(county_id=county)
    schools = list(School.objects.filter(schools_q).order_by("code")[:5000])
    ids = [s.pk for s in schools]
    rolls = {
        row["school_id"]: row
        for row in RollCall.objects.filter(school_id__in=ids, day=day)
        .values("school_id")
        .annotate(classes=Count("pk"), enrolled=Sum("enrolled"), absent=Sum("absent"))
    }
    reasons: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Absence.objects.filter(school_id__in=ids, day=day, portion=Portion.FULL)
        .values("school_id", "reason")
        .annotate(n=Count("pk"))
    ):
        reasons[row["school_id"]][row["reason"]] = row["n"]
    rows = []
    no_roll = []
    totals: dict[str, Any] = defaultdict(int)
    day_cache: dict[str, bool] = {}
    for school in schools:
        roll = rolls.get(school.pk)
        if roll is None:
            key = school.county_id
            if key not in day_cache:
                day_cache[key] = is_school_day_of(school, day)
            if day_cache[key] and is_school_day_of(school, day):
                no_roll.append(school)
            continue
        counts = [reasons[school.pk].get(r, 0) for r in REASONS]
        enrolled = roll["enrolled"] or 0
        absent = sum(counts)
        rows.append(
            {
                "school": school,
                "classes": roll["classes"],
                "enrolled": enrolled,
                "counts": counts,
                "absent": absent,
                "rate": round(100 * absent / enrolled, 2) if enrolled else None,
            }
        )
        totals["enrolled"] += enrolled
        totals["absent"] += absent
        for r, n in zip(REASONS, counts, strict=True):
            totals[r] += n
    totals["rate"] = (
        round(100 * totals["absent"] / totals["enrolled"], 2) if totals["enrolled"] else None
    )
    totals["counts"] = [totals[r] for r in REASONS]
    rows.sort(key=lambda r: -(r["rate"] or 0))
    return AreaDay(
        day=day,
        schools=rows[:limit_rows],
        no_roll=no_roll,
        totals=dict(totals),
        alerts=list(
            SymptomAlert.objects.filter(
                school_id__in=ids,
                last_day__gte=day - datetime.timedelta(days=14),
                last_day__lte=day,
            ).select_related("school", "school_class")[:100]
        ),
    )


# ---- cases --------------------------------------------------------------------------------------


def cases_list(
    user: Any, *, state: str = "", trigger: str = "", county: str = "", limit_rows: int = 200
) -> tuple[list[DropoutCase], int]:
    cases = DropoutCase.objects.filter(cases_visible_q(user))
    if state == "open":
        cases = cases.filter(state__in=OPEN_CASE_STATES)
    elif state in CaseState.values:
        cases = cases.filter(state=state)
    if trigger in Trigger.values:
        cases = cases.filter(trigger=trigger)
    if county:
        cases = cases.filter(county_id=county)
    total = cases.count()
    return (
        list(
            cases.select_related("school", "county", "responsible").order_by(
                "deadline", "opened_on"
            )[:limit_rows]
        ),
        total,
    )


def case_get(user: Any, case_id: Any) -> DropoutCase | None:
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CASE_VIEW):
        return None
    try:
        case = (
            DropoutCase.objects.select_related("school", "county", "responsible", "previous")
            .filter(pk=case_id)
            .first()
        )
    except Exception:  # a malformed id
        return None
    if case is None or not case_in_area(scope, case):
        return None
    return case


@dataclass
class LedgerRow:
    trigger: str
    label: str
    opened: int = 0
    returned: int = 0
    closed_other: int = 0
    open_at_end: int = 0


def ledger(user: Any, *, county: str, month: datetime.date) -> list[LedgerRow]:
    """The county's monthly ledger (动态清零台账): cases opened, returned and otherwise closed in
    the month, and still open at its end, by reason; all from dated fields, so a past month
    reads the same later."""
    first = month.replace(day=1)
    last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    cases = DropoutCase.objects.filter(cases_visible_q(user), county_id=county)
    rows = {t: LedgerRow(t, str(Trigger(t).label)) for t in Trigger.values}
    for trigger, n in (
        cases.filter(opened_on__gte=first, opened_on__lte=last)
        .values_list("trigger")
        .annotate(n=Count("pk"))
    ):
        rows[trigger].opened = n
    for trigger, end, n in (
        cases.filter(closed_on__gte=first, closed_on__lte=last)
        .values_list("trigger", "end")
        .annotate(n=Count("pk"))
    ):
        if end == CaseEnd.RETURNED:
            rows[trigger].returned += n
        else:
            rows[trigger].closed_other += n
    for trigger, n in (
        cases.filter(Q(closed_on__isnull=True) | Q(closed_on__gt=last), opened_on__lte=last)
        .values_list("trigger")
        .annotate(n=Count("pk"))
    ):
        rows[trigger].open_at_end = n
    return list(rows.values())


def counties_visible(user: Any) -> list[Division]:
    scope = scope_of(user)
    if scope is None:
        return []
    if scope.level == ScopeLevel.SCHOOL:
        school = School.objects.filter(pk=scope.school_id or 0).select_related("county").first()
        return [school.county] if school else []
    return list(
        Division.objects.filter(
            pk__in=School.objects.filter(schools_visible(scope, Action.SCHOOL_VIEW))
            .values("county_id")
            .distinct()
        ).order_by("code")[:500]
    )


# ---- hollow records and guests ------------------------------------------------------------------


def hollow_and_guests(user: Any, on: datetime.date) -> dict[str, Any]:
    """Hollow records (空挂) of the area's schools, and guests (借读) attending or registered in
    the area (both counties see them)."""
    scope = scope_of(user)
    area = schools_visible(scope, Action.ATTENDANCE_VIEW)
    school_ids = School.objects.filter(area).values("pk")
    hollow = list(
        HollowPeriod.objects.filter(_covering(on), school_id__in=school_ids)
        .select_related("student", "school")
        .order_by("start_date")[:500]
    )
    guests = list(
        Guest.objects.filter(_covering(on))
        .filter(Q(school_id__in=school_ids) | Q(student__school_id__in=school_ids))
        .select_related("student", "student__school", "school", "school_class")[:500]
    )
    return {"hollow": hollow, "guests": guests}


def first_record_day(county: str) -> datetime.date | None:
    found = Placement.objects.filter(school__county_id=county).aggregate(first=Min("start_date"))
    value: datetime.date | None = found["first"]
    return value


def school_days_between(school: School, start: datetime.date, end: datetime.date) -> int:
    return len(school_days(school, start, end))
