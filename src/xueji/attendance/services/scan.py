"""The daily scan (run once a day by `xueji attendance daily` or the django-tasks task, and safe to
run again the same day): opens the dropout-control cases the roll and the record call for, closes
those whose child came back, flags and clears hollow records (空挂), raises symptom alerts and
escalates the cases past their deadline. Set-based: one query per province and rule.

How a case opens by itself (a child of compulsory age, grades 1–9):
- unexcused absence (旷课, whole day) on the last `unexcused_run_days` days its class took the roll
  (a day without a roll neither breaks nor extends the run; holidays are no school days);
- more than `unexcused_term_days` unexcused days in the term;
- the record left a school with nowhere to go (退学, 辍学 filed before, 出国 — closed only with
  evidence of schooling abroad —, any other leaving) in the last year: opened at the leaving
  itself (case_open_on_leaving, registered with xueji.students.record), the scan catching any
  the hook missed;
- a graduate of grade 6 (or 9, a province setting) admitted nowhere by the intake deadline;
- (identity hands over children of the population roll with no record:
  case_open_for_unrecorded_child).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from xueji.attendance.calendar import term_bounds
from xueji.attendance.models import (
    OPEN_CASE_STATES,
    DropoutCase,
    HollowPeriod,
    ProvinceSettings,
    Trigger,
)
from xueji.attendance.rules import settings_for
from xueji.attendance.services.alerts import alerts_scan
from xueji.attendance.services.cases import (
    cases_close_returned,
    cases_escalate_overdue,
    cases_open_for_students,
)
from xueji.schools.models import School, academic_start_year
from xueji.students.models import Placement, RecordState, Student
from xueji.yearend.selectors import intake_deadline

# States of a record that left a school's roll without a receiving school.
LEFT_NOWHERE_STATES = (
    RecordState.WITHDRAWN,
    RecordState.DROPPED_OUT,
    RecordState.ABROAD,
    RecordState.LEFT_OTHER,
)

_RUN_SQL = """
WITH recent AS (
    SELECT r.school_class_id, r.day,
           ROW_NUMBER() OVER (PARTITION BY r.school_class_id ORDER BY r.day DESC) AS rn
    FROM attendance_rollcall r
    JOIN schools_schoolclass c ON c.id = r.school_class_id
    JOIN schools_school s ON s.id = r.school_id
    WHERE r.day >= %s AND r.day <= %s AND c.grade BETWEEN 1 AND 9 AND s.province_id = %s
)
SELECT a.student_id, MIN(a.day)
FROM recent x
JOIN attendance_absence a ON a.school_class_id = x.school_class_id AND a.day = x.day
WHERE x.rn <= %s AND a.portion = 'full' {reason}
GROUP BY a.student_id
HAVING COUNT(*) = %s
"""


def _provinces() -> list[str]:
    return list(School.objects.values_list("province_id", flat=True).distinct())


def _uuid(value: Any) -> Any:
    import uuid

    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def absent_runs(
    *, province: str, on: datetime.date, days: int, unexcused_only: bool
) -> dict[Any, datetime.date]:
    """Children absent the whole day on each of the last `days` roll days of their class up to
    `on` (only unexcused absences when asked): child → the run's first day."""
    since = on - datetime.timedelta(days=max(days * 3, 21) + 14)
    sql = _RUN_SQL.format(reason="AND a.reason = 'unexcused'" if unexcused_only else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, on, province, days, days])
        rows = cursor.fetchall()
    found = {}
    for student_id, first in rows:
        found[_uuid(student_id)] = (
            first if isinstance(first, datetime.date) else datetime.date.fromisoformat(str(first))
        )
    return found


def _on_roll(ids: Any) -> set[Any]:
    return set(
        Student.objects.filter(pk__in=list(ids), state=RecordState.ENROLLED).values_list(
            "pk", flat=True
        )
    )


def scan_unexcused_runs(*, on: datetime.date) -> int:
    opened = 0
    for province in _provinces():
        rules = settings_for(province)
        runs = absent_runs(
            province=province, on=on, days=rules.unexcused_run_days, unexcused_only=True
        )
        if not runs:
            continue
        # A case closed during the run (e.g. returned by hand) is not reopened by the same run.
        closed_since: dict[Any, datetime.date] = dict(
            DropoutCase.objects.filter(student_id__in=list(runs), closed_on__isnull=False)
            .order_by("closed_on")
            .values_list("student_id", "closed_on")  # type: ignore[arg-type]
        )
        wanted = [
            sid
            for sid, first in runs.items()
            if sid not in closed_since or closed_since[sid] < first
        ]
        made = cases_open_for_students(
            actor=None, student_ids=_on_roll(wanted), trigger=Trigger.UNEXCUSED_RUN, on=on
        )
        opened += len(made)
    return opened


def scan_unexcused_term(*, on: datetime.date) -> int:
    bounds = term_bounds(on)
    if bounds is None:
        return 0
    start, _end = bounds
    opened = 0
    for province in _provinces():
        rules = settings_for(province)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.student_id FROM attendance_absence a "
                "JOIN schools_school s ON s.id = a.school_id "
                "JOIN schools_schoolclass c ON c.id = a.school_class_id "
                "WHERE a.day >= %s AND a.day <= %s AND a.reason = 'unexcused' "
                "AND a.portion = 'full' AND s.province_id = %s AND c.grade BETWEEN 1 AND 9 "
                "GROUP BY a.student_id HAVING COUNT(*) > %s",
                [start, on, province, rules.unexcused_term_days],
            )
            ids = {_uuid(row[0]) for row in cursor.fetchall()}
        if not ids:
            continue
        # One such case per child and term.
        ids -= set(
            DropoutCase.objects.filter(
                student_id__in=list(ids), trigger=Trigger.UNEXCUSED_TERM, opened_on__gte=start
            ).values_list("student_id", flat=True)
        )
        made = cases_open_for_students(
            actor=None, student_ids=_on_roll(ids), trigger=Trigger.UNEXCUSED_TERM, on=on
        )
        opened += len(made)
    return opened


def _last_placement(field: str) -> Subquery:
    return Subquery(
        Placement.objects.filter(student_id=OuterRef("pk"))
        .order_by("-start_date")
        .values(field)[:1]
    )


def case_open_on_leaving(
    actor: Any,
    student: Student,
    placement: Placement,
    on: datetime.date,
    state: RecordState,
    detail: dict[str, Any],
) -> None:
    """Registered with xueji.students.record (register_after_leave): a compulsory-grade child
    whose placement closes with nowhere to go (退学, 辍学, 出国, any other leaving) gets a case in
    the same transaction as the leaving. A leaving that is itself the end of a case (abroad with
    evidence, 辍学 confirmed by the county) finds the case still open and opens none; the daily
    scan (scan_left_nowhere) is the safety net for records moved any other way."""
    if state not in LEFT_NOWHERE_STATES or not 1 <= (placement.grade or 0) <= 9:
        return
    if detail.get("case"):
        return
    cases_open_for_students(
        actor=actor, student_ids=[student.pk], trigger=Trigger.LEFT_NOWHERE, on=on
    )


def scan_left_nowhere(*, on: datetime.date, lookback_days: int = 366) -> int:
    """Records that left a school in grades 1–9 with no receiving school, with no case opened
    (or closed: a case ended as abroad moves the record itself) since they left. The case
    normally opens at the leaving (case_open_on_leaving); this finds any the hook missed."""
    left = (
        Student.objects.filter(state__in=LEFT_NOWHERE_STATES)
        .annotate(left_on=_last_placement("end_date"), left_grade=_last_placement("grade"))
        .filter(
            left_on__isnull=False,
            left_on__lte=on,
            left_on__gte=on - datetime.timedelta(days=lookback_days),
            left_grade__gte=1,
            left_grade__lte=9,
        )
        .exclude(
            Exists(
                DropoutCase.objects.filter(student_id=OuterRef("pk")).filter(
                    Q(opened_on__gte=OuterRef("left_on"))
                    | Q(closed_on__gte=OuterRef("left_on"))
                    | Q(state__in=OPEN_CASE_STATES)
                )
            )
        )
    )
    made = cases_open_for_students(
        actor=None,
        student_ids=list(left.values_list("pk", flat=True)),
        trigger=Trigger.LEFT_NOWHERE,
        on=on,
    )
    return len(made)


def graduates_unadmitted(*, on: datetime.date) -> Any:
    """Graduates of the last school year's final compulsory grade (6, or 9 where the province
    follows them) admitted nowhere: a queryset of students (whatever the deadline)."""
    start = academic_start_year(on) - 1
    followed = {
        row.province_id: row.graduate_grade
        for row in ProvinceSettings.objects.filter(graduate_grade=9)
    }
    grades = Q(last_grade=6) | Q(last_grade=9, school__province_id__in=list(followed))
    return (
        Student.objects.filter(state=RecordState.GRADUATED)
        .annotate(
            last_grade=_last_placement("grade"),
            last_year=_last_placement("school_class__academic_year__start_year"),
        )
        .filter(grades, last_year=start)
    )


def scan_graduates(*, on: datetime.date) -> int:
    start = academic_start_year(on) - 1
    deadline = intake_deadline(start + 1)
    if on <= deadline:
        return 0
    ids = list(
        graduates_unadmitted(on=on)
        .exclude(
            Exists(DropoutCase.objects.filter(student_id=OuterRef("pk"), opened_on__gt=deadline))
        )
        .values_list("pk", flat=True)
    )
    return len(
        cases_open_for_students(
            actor=None, student_ids=ids, trigger=Trigger.GRADUATE_UNADMITTED, on=on
        )
    )


def scan_returned(*, on: datetime.date) -> int:
    """Close the open cases whose child, back on a roll, attended the last N roll days of its
    class since the case opened (N: the province's `returned_after_days`)."""
    cases = list(
        DropoutCase.objects.filter(
            state__in=OPEN_CASE_STATES, student__state=RecordState.ENROLLED
        ).values_list("pk", "student_id", "opened_on", "county_id")
    )
    if not cases:
        return 0
    placements = dict(
        Placement.objects.filter(
            student_id__in=[c[1] for c in cases], end_date__isnull=True
        ).values_list("student_id", "school_class_id")
    )
    from xueji.attendance.models import Absence, RollCall

    returned = []
    for case_id, student_id, opened_on, county in cases:
        class_id = placements.get(student_id)
        if class_id is None:
            continue
        need = settings_for(county).returned_after_days
        days = list(
            RollCall.objects.filter(school_class_id=class_id, day__gt=opened_on, day__lte=on)
            .order_by("-day")
            .values_list("day", flat=True)[:need]
        )
        if len(days) < need:
            continue
        absent = Absence.objects.filter(student_id=student_id, day__in=days, portion="full")
        if not absent.exists():
            returned.append(case_id)
    return cases_close_returned(actor=None, case_ids=returned, on=on)


def scan_hollow(*, on: datetime.date) -> dict[str, int]:
    """Flag records absent on each of their class's last `hollow_after_days` roll days, with no
    open case and not suspended; clear the flags of the others."""
    hollow: set[Any] = set()
    for province in _provinces():
        rules = settings_for(province)
        hollow |= set(
            absent_runs(
                province=province, on=on, days=rules.hollow_after_days, unexcused_only=False
            )
        )
    followed = set(
        DropoutCase.objects.filter(
            student_id__in=list(hollow), state__in=OPEN_CASE_STATES
        ).values_list("student_id", flat=True)
    )
    hollow = _on_roll(hollow - followed)
    with transaction.atomic():
        open_now = set(
            HollowPeriod.objects.filter(end_date__isnull=True).values_list("student_id", flat=True)
        )
        cleared = (
            HollowPeriod.objects.filter(end_date__isnull=True, start_date__lt=on)
            .exclude(student_id__in=list(hollow))
            .update(end_date=on)
        )
        schools = dict(
            Student.objects.filter(pk__in=list(hollow - open_now)).values_list("pk", "school_id")
        )
        HollowPeriod.objects.bulk_create(
            [
                HollowPeriod(student_id=sid, school_id=school_id, start_date=on)
                for sid, school_id in schools.items()
            ]
        )
    return {"flagged": len(schools), "cleared": cleared}


def attendance_daily(*, on: datetime.date | None = None) -> dict[str, Any]:
    """Everything the day asks, in order; each step is idempotent for the day."""
    on = on or timezone.localdate()
    counts: dict[str, Any] = defaultdict(int)
    counts["returned"] = scan_returned(on=on)
    counts["unexcused_run"] = scan_unexcused_runs(on=on)
    counts["unexcused_term"] = scan_unexcused_term(on=on)
    counts["left_nowhere"] = scan_left_nowhere(on=on)
    counts["graduates"] = scan_graduates(on=on)
    counts["hollow"] = scan_hollow(on=on)
    counts["alerts"] = alerts_scan(on=on)
    counts["escalated"] = cases_escalate_overdue(actor=None, on=on)
    return dict(counts)
