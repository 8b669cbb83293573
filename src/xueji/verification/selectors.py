"""Reads of verification windows and of class teachers' checks, limited to the caller's scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import (
    NOTHING,
    PREFIX_DIGITS,
    Scope,
    classes_visible,
    may,
    scope_of,
    students_visible,
    today,
)
from xueji.schools.models import School, SchoolClass
from xueji.students.models import Student
from xueji.verification.models import StudentCheck, VerificationWindow


def _windows_q(scope: Scope | None) -> Q:
    if scope is None or not may(scope, Action.WINDOW_VIEW):
        return NOTHING
    if scope.level == ScopeLevel.NATION:
        return Q()
    if scope.level == ScopeLevel.SCHOOL:
        county = School.objects.filter(pk=scope.school_id or 0).values("county_id")
        return Q(county_id__in=county)
    digits = PREFIX_DIGITS[scope.level]
    return Q(county__code__startswith=(scope.division_code or "")[:digits])


def windows_in_scope(user: Any) -> QuerySet[VerificationWindow]:
    """The verification windows of the counties in the user's area, latest first."""
    return (
        VerificationWindow.objects.filter(_windows_q(scope_of(user)))
        .select_related("county", "term", "term__academic_year", "opened_by", "closed_by")
        .order_by("county_id", "-opens_on")
    )


def window_of_county(
    county_code: str, on: datetime.date | None = None
) -> VerificationWindow | None:
    """The county's window open on a date (today by default)."""
    return VerificationWindow.objects.open_on(on or today()).filter(county_id=county_code).first()


def next_window_of_county(
    county_code: str, on: datetime.date | None = None
) -> VerificationWindow | None:
    """The county's next window that has not opened yet."""
    return (
        VerificationWindow.objects.filter(
            county_id=county_code, opens_on__gt=on or today(), closed_at__isnull=True
        )
        .order_by("opens_on")
        .first()
    )


@dataclass
class MyClasses:
    """A class teacher's classes, and whether the county's window lets them look now."""

    school: School | None
    classes: list[SchoolClass]
    window: VerificationWindow | None
    next_window: VerificationWindow | None


def my_classes(user: Any) -> MyClasses:
    """The classes the user is class teacher of at the school (names only; their students are
    seen through the check sheet while the window is open)."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CLASS_VERIFY):
        return MyClasses(None, [], None, None)
    school = School.objects.select_related("county").filter(pk=scope.school_id or 0).first()
    if school is None:
        return MyClasses(None, [], None, None)
    classes = list(
        SchoolClass.objects.filter(class_teacher_id=scope.user_id, school=school)
        .select_related("academic_year")
        .order_by("-academic_year__start_year", "grade", "number")
    )
    return MyClasses(
        school=school,
        classes=classes,
        window=window_of_county(school.county_id),
        next_window=next_window_of_county(school.county_id),
    )


@dataclass
class CheckRow:
    student: Student
    check: StudentCheck | None = None


@dataclass
class CheckSheet:
    school_class: SchoolClass
    window: VerificationWindow
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def confirmed(self) -> int:
        return sum(1 for row in self.rows if row.check and row.check.outcome == "confirmed")

    @property
    def reported(self) -> int:
        return sum(1 for row in self.rows if row.check and row.check.outcome == "reported")


def check_sheet(user: Any, class_id: int) -> CheckSheet | None:
    """A class teacher's own class while the window is open: its current students, each with
    what was found in this window. None otherwise (outside the window, another class)."""
    scope = scope_of(user)
    school_class = (
        SchoolClass.objects.filter(classes_visible(scope, Action.CLASS_VERIFY), pk=class_id)
        .select_related("school", "academic_year")
        .first()
    )
    if school_class is None:
        return None
    window = window_of_county(school_class.school.county_id)
    if window is None:
        return None
    students = list(
        Student.objects.filter(
            students_visible(scope, Action.CLASS_VERIFY),
            placements__school_class=school_class,
            placements__end_date__isnull=True,
        ).order_by("name_pinyin", "id")
    )
    checks = {
        check.student_id: check
        for check in StudentCheck.objects.filter(
            window=window, student_id__in=[s.pk for s in students]
        )
    }
    return CheckSheet(
        school_class=school_class,
        window=window,
        rows=[CheckRow(student, checks.get(student.pk)) for student in students],
    )
