"""Reads of the audit trail for the auditors' pages: the search, limited to their area.

Browsing the trail shows entries beside the students and schools they concern, so it sits above
them; the trail's write side (xueji.audit) reads no domain.

Only auditors read the trail (audit.view in xueji.access.policy). An auditor sees the entries
written by people working inside their area (at its schools or its bureaus, as they were when
they acted) and every entry about a student of their area, whoever wrote it. A national auditor
sees everything.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from xueji.access.lookups import LOOKUP_ACTION, LOOKUP_REFUSED_ACTION
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import Scope, require, schools_visible, students_visible
from xueji.audit.models import AuditEntry
from xueji.schools.models import School
from xueji.students.models import Student
from xueji.students.selectors import student_by_number

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class AuditFilters:
    student: str = ""  # a student's UUID, or a student number (current or former) to look up
    user: str = ""  # the actor's user name, exactly (case-insensitive)
    action: str = ""  # an action, or the start of one ("student." for all of a student's)
    since: datetime.date | None = None
    until: datetime.date | None = None  # inclusive
    # Page cursors: entries written before or after this one (its id: entries are numbered within
    # their chain, one chain per county, so their numbers do not order the trail).
    before: int | None = None
    after: int | None = None


@dataclass
class AuditPage:
    entries: list[AuditEntry] = field(default_factory=list)
    older: int | None = None  # pass as `before` for the next (older) page
    newer: int | None = None  # pass as `after` for the previous (newer) page
    student_id: uuid.UUID | None = None
    student_not_found: bool = False
    # The students the page's entries are about, by id as the entries hold it: name and masked
    # number, only those of the auditor's area (one query for the page).
    students: dict[str, Student] = field(default_factory=dict)


def _visible(scope: Scope) -> Q:
    """Entries of the auditor's area: by who acted there, or about whom."""
    if scope.level == ScopeLevel.NATION:
        return Q()
    about_students = Q(
        object_type="student",
        object_id__in=Student.objects.filter(students_visible(scope, Action.AUDIT_VIEW)).values(
            "pk"
        ),
    )
    if scope.level == ScopeLevel.SCHOOL:
        return Q(actor_school_id=scope.school_id) | about_students
    code = scope.division_code or ""
    if scope.level == ScopeLevel.PROVINCE:
        divisions = Q(actor_division__startswith=code[:2])
    elif scope.level == ScopeLevel.CITY:
        divisions = Q(actor_division__startswith=code[:4])
    else:
        divisions = Q(actor_division=code)
    schools = Q(
        actor_school_id__in=School.objects.filter(schools_visible(scope, Action.AUDIT_VIEW)).values(
            "id"
        )
    )
    return schools | divisions | about_students


def _students_of(scope: Scope, entries: list[AuditEntry]) -> dict[str, Student]:
    ids = set()
    for entry in entries:
        if entry.object_type == "student" and entry.object_id:
            try:
                ids.add(uuid.UUID(str(entry.object_id)))
            except ValueError:
                continue
    if not ids:
        return {}
    found = Student.objects.filter(students_visible(scope, Action.AUDIT_VIEW), pk__in=ids).only(
        "id", "name", "number_masked"
    )
    return {str(student.pk): student for student in found}


def audit_student_id(user: Any, text: str) -> uuid.UUID | None:
    """The id of the student that `text` names (the record's id, or a current or former student
    number found in the auditor's area), or None; auditors only."""
    require(user, Action.AUDIT_VIEW)
    return _student_id(user, text) if text.strip() else None


def _student_id(user: Any, text: str) -> uuid.UUID | None:
    text = text.strip()
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    found = student_by_number(user, text, Action.AUDIT_VIEW)
    return None if found is None else found.pk


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_search(user: Any, filters: AuditFilters | None, *, limit: int = PAGE_SIZE) -> AuditPage:
    """One page of the trail, newest first, matching every filter given; auditors only.
    With no filters (the search could not be read) the page is empty."""
    scope = require(user, Action.AUDIT_VIEW)
    page = AuditPage()
    if filters is None:
        return page
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    entries: QuerySet[AuditEntry] = AuditEntry.objects.filter(_visible(scope))
    if filters.student.strip():
        page.student_id = _student_id(user, filters.student)
        if page.student_id is None:
            page.student_not_found = True
            return page
        entries = entries.filter(object_type="student", object_id=page.student_id)
    if filters.user.strip():
        entries = entries.filter(actor_username__iexact=filters.user.strip())
    if filters.action.strip():
        entries = entries.filter(action__startswith=filters.action.strip())
    if filters.since is not None:
        entries = entries.filter(at__gte=_day_start(filters.since))
    if filters.until is not None:
        entries = entries.filter(at__lt=_day_start(filters.until + datetime.timedelta(days=1)))
    entries = entries.select_related("actor")

    if filters.after is not None:
        rows = list(entries.filter(pk__gt=filters.after).order_by("pk")[: limit + 1])
        has_newer = len(rows) > limit
        rows = rows[:limit]
        rows.reverse()
        has_older = bool(rows) and entries.filter(pk__lt=rows[-1].pk).exists()
    else:
        window = entries if filters.before is None else entries.filter(pk__lt=filters.before)
        rows = list(window.order_by("-pk")[: limit + 1])
        has_older = len(rows) > limit
        rows = rows[:limit]
        has_newer = (
            filters.before is not None and bool(rows) and entries.filter(pk__gt=rows[0].pk).exists()
        )
    page.entries = rows
    page.students = _students_of(scope, rows)
    page.older = rows[-1].pk if has_older else None
    page.newer = rows[0].pk if has_newer else None
    return page


# ---- alerts: users who went over the limit of look-ups --------------------------------------

ALERT_DAYS = 30


@dataclass(frozen=True)
class LookupAlert:
    """A user whose look-ups of children registered elsewhere were refused over the hourly limit
    (xueji.access.lookups): how many refusals, the first and the last, in the alert period."""

    username: str
    role: str
    refused: int
    first_at: datetime.datetime
    last_at: datetime.datetime
    # Where the auditor reads what the user looked up: the search by user and action.
    search_action: str = LOOKUP_ACTION


def lookup_alerts(user: Any, *, days: int = ALERT_DAYS) -> list[LookupAlert]:
    """The alerts of the auditor's area (users acting there), latest first: one per user with
    look-ups refused over the limit in the last `days` days; auditors only."""
    scope = require(user, Action.AUDIT_VIEW)
    since = timezone.now() - datetime.timedelta(days=days)
    rows = (
        AuditEntry.objects.filter(_visible(scope), action=LOOKUP_REFUSED_ACTION, at__gte=since)
        .values("actor_id")
        .annotate(
            username=Max("actor_username"),
            role=Max("actor_role"),
            refused=Count("id"),
            first_at=Min("at"),
            last_at=Max("at"),
        )
        .order_by("-last_at")
    )
    return [
        LookupAlert(
            username=row["username"],
            role=row["role"],
            refused=row["refused"],
            first_at=row["first_at"],
            last_at=row["last_at"],
        )
        for row in rows
    ]
