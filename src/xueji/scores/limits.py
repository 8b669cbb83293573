"""The subject teacher's limit (ASSIGNED_CLASSES in xueji.access.policy): the classes the teacher
is assigned to teach at the school. Access applies it with the filters registered here at
start-up (xueji.scores.apps), without importing this app."""

from __future__ import annotations

from django.db.models import Q

from xueji.access.scope import ClassLimit, Scope
from xueji.schools.models import SchoolClass
from xueji.scores.models import TeachingAssignment
from xueji.students.models import Placement


def classes_assigned(scope: Scope, prefix: str = "") -> Q:
    """Filter on SchoolClass: the classes the subject teacher is assigned to at the school."""
    assigned = TeachingAssignment.objects.filter(teacher_id=scope.user_id)
    return Q(
        **{
            f"{prefix}school_id": scope.school_id,
            f"{prefix}pk__in": assigned.values("school_class_id"),
        }
    )


def students_assigned(scope: Scope) -> Q:
    """Filter on Student: the students placed now in those classes."""
    classes = SchoolClass.objects.filter(classes_assigned(scope))
    placed = Placement.objects.filter(end_date__isnull=True, school_class__in=classes)
    return Q(pk__in=placed.values("student_id"))


ASSIGNED_CLASSES = ClassLimit(classes=classes_assigned, students=students_assigned)
