"""The class teacher's limit (OWN_CLASSES_IN_WINDOW in xueji.access.policy): the own classes, and
only while the verification window of the school's county is open. Access applies it with the
filters registered here at start-up (xueji.verification.apps), without importing this app."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet

from xueji.access.scope import ClassLimit, Scope, today
from xueji.schools.models import SchoolClass
from xueji.students.models import Placement
from xueji.verification.models import VerificationWindow


def open_window_counties(on: datetime.date | None = None) -> QuerySet[Any]:
    """The codes of the counties whose class-teacher verification window is open on a date."""
    return VerificationWindow.objects.open_on(on or today()).values("county_id")


def classes_taught_now(scope: Scope, prefix: str = "") -> Q:
    """Filter on SchoolClass: the class teacher's classes at the school, window open."""
    return Q(
        **{
            f"{prefix}class_teacher_id": scope.user_id,
            f"{prefix}school_id": scope.school_id,
            f"{prefix}school__county_id__in": open_window_counties(),
        }
    )


def students_taught_now(scope: Scope) -> Q:
    """Filter on Student: the students placed now in those classes."""
    classes = SchoolClass.objects.filter(classes_taught_now(scope))
    placed = Placement.objects.filter(end_date__isnull=True, school_class__in=classes)
    return Q(pk__in=placed.values("student_id"))


OWN_CLASSES_IN_WINDOW = ClassLimit(classes=classes_taught_now, students=students_taught_now)
