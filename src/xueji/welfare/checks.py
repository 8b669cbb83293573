"""The consistency checks (the anti-fraud cross-check) of a term in an area: the finance side's
figures against the registry's census; aid to a child not on the roll or suspended at the time,
the same programme paid twice, a payee who is no guardian; meals for children absent, not
enrolled, or on days that are not school days; hollow records (空挂) that drew money.

Each finding is one kind at one school in one term, with the children behind it, found again by
its key at every refresh so that the county's explanation stays. Absences, school days and
hollow records are asked of attendance (xueji.welfare.presence) only.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.scope import Scope, area_q
from xueji.audit.services import audit_record
from xueji.core.errors import FieldErrors, NotFound
from xueji.schools.models import School, Term
from xueji.students.models import EventKind, Placement, RecordEvent
from xueji.welfare import presence
from xueji.welfare.funding import allocation, census_date_of, placed_on
from xueji.welfare.models import (
    AidPayment,
    CheckRun,
    FinanceFigure,
    Finding,
    FindingKind,
    MealDay,
    MealServed,
    PaymentMode,
    PaymentState,
)
from xueji.welfare.validation import Column, field_error, parse_fen, read_table

PAID_STATES = (PaymentState.SENT, PaymentState.PAID, PaymentState.IN_KIND)
Found = dict[tuple[str, int], dict[str, Any]]  # (kind, school) -> detail and children


def _add(
    found: Found, kind: str, school_id: int, children: set[Any] | list[Any], **detail: Any
) -> None:
    entry = found.setdefault((kind, school_id), {"children": set(), "detail": {}})
    entry["children"].update(str(c) for c in children)
    for key, value in detail.items():
        entry["detail"][key] = value


def _term_days(term: Term) -> tuple[datetime.date, datetime.date]:
    return term.start_date, term.end_date


def check_finance(term: Term, schools: Q, found: Found) -> None:
    figures = list(
        FinanceFigure.objects.filter(term=term, school__in=School.objects.filter(schools))
    )
    if not figures:
        return
    census = allocation(term, None)
    by_school = {s.school_id: s for s in census.schools}
    for figure in figures:
        registry = by_school.get(figure.school_id)
        pupils = registry.total_pupils if registry else 0
        amount = registry.amount_fen if registry else 0
        if figure.head_count != pupils or figure.amount_fen != amount:
            _add(
                found,
                FindingKind.FINANCE_MISMATCH,
                figure.school_id,
                [],
                funded_pupils=figure.head_count,
                registry_pupils=pupils,
                funded_fen=figure.amount_fen,
                registry_fen=amount,
                census_on=str(census.census_on),
            )


def check_aid(term: Term, schools: Q, found: Found) -> None:
    payments = AidPayment.objects.filter(
        term=term, state__in=PAID_STATES, award__school__in=School.objects.filter(schools)
    )
    # Not on the roll at the time: no placement open on the day paid (or made, while unpaid),
    # or suspended then (the record's last suspension or resumption up to the day).
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in payments.values("pk", "student_id", "award__school_id", "paid_on", "created_at")
    ]
    for row in rows:
        row["day"] = row["paid_on"] or timezone.localtime(row["created_at"]).date()
    placed: dict[Any, list[Any]] = defaultdict(list)
    for student_id, start, end in Placement.objects.filter(
        student_id__in={r["student_id"] for r in rows}
    ).values_list("student_id", "start_date", "end_date"):
        placed[student_id].append((start, end))
    events: dict[Any, list[Any]] = defaultdict(list)
    for student_id, kind, day in (
        RecordEvent.objects.filter(
            student_id__in={r["student_id"] for r in rows},
            kind__in=[EventKind.SUSPENDED, EventKind.RESUMED],
        )
        .order_by("occurred_on", "recorded_at")
        .values_list("student_id", "kind", "occurred_on")
    ):
        events[student_id].append((day, kind))
    for row in rows:
        day = row["day"]
        on_roll = any(
            start <= day and (end is None or end > day) for start, end in placed[row["student_id"]]
        )
        last = [kind for when, kind in events[row["student_id"]] if when <= day]
        suspended = bool(last) and last[-1] == EventKind.SUSPENDED
        if not on_roll or suspended:
            _add(found, FindingKind.AID_NOT_ON_ROLL, row["award__school_id"], [row["student_id"]])
    # The same programme paid twice to one child in the term.
    twice = payments.values("student_id", "programme_id").annotate(n=Count("id")).filter(n__gt=1)
    doubled = {(r["student_id"], r["programme_id"]) for r in twice}
    if doubled:
        for student_id, programme_id, school_id in payments.values_list(
            "student_id", "programme_id", "award__school_id"
        ):
            if (student_id, programme_id) in doubled:
                _add(found, FindingKind.AID_TWICE, school_id, [student_id])
    # A payee who is no guardian on the child's record.
    bad_payee = payments.filter(
        mode__in=[PaymentMode.GUARDIAN_ACCOUNT, PaymentMode.ONE_CARD]
    ).filter(
        Q(payee__isnull=True) | Q(payee__is_guardian=False) | ~Q(payee__student_id=F("student_id"))
    )
    for student_id, school_id in bad_payee.values_list("student_id", "award__school_id"):
        _add(found, FindingKind.PAYEE_NOT_GUARDIAN, school_id, [student_id])


def check_meals(term: Term, schools: Q, found: Found) -> None:
    start, end = _term_days(term)
    served = MealServed.objects.filter(
        day__gte=start, day__lte=end, school__in=School.objects.filter(schools)
    )
    # Not enrolled: no placement at the school open that day.
    not_placed = served.exclude(
        Exists(
            Placement.objects.filter(
                student_id=OuterRef("student_id"),
                school_id=OuterRef("school_id"),
                start_date__lte=OuterRef("day"),
            ).filter(Q(end_date__isnull=True) | Q(end_date__gt=OuterRef("day")))
        )
    )
    for student_id, school_id in not_placed.values_list("student_id", "school_id"):
        _add(found, FindingKind.MEAL_NOT_ENROLLED, school_id, [student_id])
    # Days that are not school days.
    days = list(
        MealDay.objects.filter(
            day__gte=start, day__lte=end, school__in=School.objects.filter(schools)
        ).values_list("school_id", "day")
    )
    for school_id, day in days:
        if not presence.is_school_day(school_id=school_id, day=day):
            ate = list(
                served.filter(school_id=school_id, day=day).values_list("student_id", flat=True)
            )
            _add(found, FindingKind.MEAL_NO_SCHOOL_DAY, school_id, ate)
            found[(FindingKind.MEAL_NO_SCHOOL_DAY, school_id)]["detail"].setdefault(
                "days", []
            ).append(str(day))
    # Absent that day: the children the class's roll marked absent, asked once for the term
    # and the area (not once per class and day).
    absences = presence.full_day_absences_between(
        start=start, end=end, school_ids=School.objects.filter(schools).values("pk")
    )
    if absences:
        for student_id, day, school_id in served.values_list("student_id", "day", "school_id"):
            if (student_id, day) in absences:
                _add(found, FindingKind.MEAL_ABSENT, school_id, [student_id])


def check_hollow(term: Term, schools: Q, found: Found) -> None:
    school_q = School.objects.filter(schools)
    # Funding: hollow on the census day and counted there.
    census_on = census_date_of(term)
    hollow = presence.hollow_student_ids(on=census_on)
    if hollow:
        for student_id, school_id in Placement.objects.filter(
            placed_on(census_on), student_id__in=hollow, school__in=school_q
        ).values_list("student_id", "school_id"):
            _add(found, FindingKind.HOLLOW_DREW_MONEY, school_id, [student_id], funding=True)
    # Meals and aid: hollow on the day eaten or paid.
    start, end = _term_days(term)
    by_day: dict[datetime.date, list[tuple[uuid.UUID, int, str]]] = defaultdict(list)
    for student_id, school_id, day in MealServed.objects.filter(
        day__gte=start, day__lte=end, school__in=school_q
    ).values_list("student_id", "school_id", "day"):
        by_day[day].append((student_id, school_id, "meals"))
    for student_id, school_id, paid_on in AidPayment.objects.filter(
        term=term, state__in=PAID_STATES, award__school__in=school_q, paid_on__isnull=False
    ).values_list("student_id", "award__school_id", "paid_on"):
        if paid_on is not None:
            by_day[paid_on].append((student_id, school_id, "aid"))
    for day, rows in by_day.items():
        hollow_then = presence.hollow_student_ids(on=day)
        if not hollow_then:
            continue
        for student_id, school_id, what in rows:
            if student_id in hollow_then:
                _add(found, FindingKind.HOLLOW_DREW_MONEY, school_id, [student_id], **{what: True})


CHECKS = (check_finance, check_aid, check_meals, check_hollow)


def area_code(scope: Scope | None) -> str:
    if scope is None or scope.level == ScopeLevel.NATION:
        return "nation"
    if scope.level == ScopeLevel.SCHOOL:
        return str(scope.school_id)
    return scope.division_code or ""


def checks_run(*, actor: Any, scope: Scope | None, term: Term) -> CheckRun:
    """Refresh the findings of the term in the scope's area (the nation: None)."""
    schools = Q() if scope is None else area_q(scope, "")
    found: Found = {}
    for check in CHECKS:
        check(term, schools, found)
    now = timezone.now()
    counties = dict(
        School.objects.filter(pk__in={s for _k, s in found}).values_list("pk", "county_id")
    )
    with transaction.atomic():
        keys = []
        for (kind, school_id), entry in sorted(found.items()):
            key = f"{kind}:{school_id}:{term.pk}"
            keys.append(key)
            children = sorted(entry["children"])
            Finding.objects.update_or_create(
                key=key,
                defaults={
                    "kind": kind,
                    "school_id": school_id,
                    "county_id": counties[school_id],
                    "term": term,
                    "detail": {**entry["detail"], "children": len(children)},
                    "student_ids": children,
                    "found_at": now,
                    "still_found": True,
                },
            )
        Finding.objects.filter(term=term, school__in=School.objects.filter(schools)).exclude(
            key__in=keys
        ).update(still_found=False)
        run = CheckRun.objects.create(term=term, area=area_code(scope), findings=len(keys))
        audit_record(
            actor=actor,
            action="welfare.checks_run",
            object_type="term",
            detail={"term": str(term), "area": run.area, "findings": len(keys)},
        )
    return run


def finding_explain(*, actor: Any, scope: Scope, finding_id: Any, reason: str) -> Finding:
    """The county explains a finding of its schools (audited)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        finding = (
            Finding.objects.select_for_update()
            .filter(pk=finding_id, county_id=scope.division_code)
            .first()
            if scope.level == ScopeLevel.COUNTY
            else None
        )
        if finding is None:
            raise NotFound("finding_not_found", _("No such finding in your county."))
        if not reason or len(reason) > 500:
            raise FieldErrors(
                {
                    "reason": [
                        field_error("required", _("Give the reason (500 characters at most)."))
                    ]
                }
            )
        before = finding.explanation
        finding.explanation = reason
        finding.explained_by = actor
        finding.explained_at = timezone.now()
        finding.save(update_fields=["explanation", "explained_by", "explained_at"])
        audit_record(
            actor=actor,
            action="welfare.finding_explain",
            object_type="finding",
            object_id=finding.pk,
            detail={"kind": finding.kind, "school": finding.school_id},
            before={"explanation": before},
            after={"explanation": reason},
        )
    return finding


FINANCE_COLUMNS = [
    Column("school", ("学校代码", "school_code")),
    Column("head_count", ("拨款人数", "head_count")),
    Column("amount", ("拨款金额(元)", "拨款金额", "amount")),
]


def finance_figures_load(*, actor: Any, scope: Scope, term: Term, data: bytes) -> int:
    """The finance system's head count and amount per school of the county for the term
    (replacing what was loaded before), all or nothing."""
    if scope.level != ScopeLevel.COUNTY:
        raise NotFound("county_not_found", _("Finance figures are loaded by a county."))
    schools = dict(School.objects.filter(county_id=scope.division_code).values_list("code", "pk"))
    seen: set[str] = set()

    def check(row: dict[str, str], report: Any) -> Any:
        code = row["school"].strip()
        if code not in schools:
            report("school", _("No such school in your county."))
        elif code in seen:
            report("school", _("The school appears twice in the file."))
        seen.add(code)
        count = row["head_count"].strip()
        if not count.isdigit() or len(count) > 7:
            report("head_count", _("The head count is a whole number."))
        amount = parse_fen(row["amount"])
        if amount is None:
            report("amount", _("Write the amount in yuan, e.g. 12345.50."))
        return (schools.get(code), int(count) if count.isdigit() and len(count) <= 7 else 0, amount)

    rows = read_table(data, FINANCE_COLUMNS, check)
    with transaction.atomic():
        FinanceFigure.objects.filter(term=term, school__county_id=scope.division_code).delete()
        FinanceFigure.objects.bulk_create(
            FinanceFigure(
                school_id=school_id, term=term, head_count=count, amount_fen=amount, loaded_by=actor
            )
            for school_id, count, amount in rows
        )
        audit_record(
            actor=actor,
            action="welfare.finance_figures_load",
            object_type="term",
            detail={"term": str(term), "county": scope.division_code, "schools": len(rows)},
        )
    return len(rows)
