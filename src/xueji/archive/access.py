"""Whose archive a user reaches, and which of its parts.

- The school holding the record now, and the bureaus above it, read the whole archive (the next
  school sees what the schools before wrote: 籍随人走).
- A school the child has left keeps reading what it wrote itself (`written_here`).
- A class teacher (limit OWN_CLASSES) reaches the children placed now in the classes it leads.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from xueji.access.policy import Limit, limit
from xueji.access.scope import NOTHING, Scope, may, students_visible


def own_class_students(scope: Scope) -> Q:
    """Filter on Student: the children placed now in the classes the user leads."""
    return Q(
        school_id=scope.school_id,
        placements__end_date__isnull=True,
        placements__school_class__class_teacher_id=scope.user_id,
    )


def archive_students(scope: Scope | None, action: str) -> Q:
    """Filter on Student: the records whose archive the scope may perform `action` on now
    (the current holders; a class teacher's own classes)."""
    if scope is None or not may(scope, action):
        return NOTHING
    if limit(scope.role, action) == Limit.OWN_CLASSES:
        return own_class_students(scope)
    return students_visible(scope, action)


def former_school_students(scope: Scope | None, action: str) -> Q:
    """Filter on Student: children who were once placed at the user's school (a school-level
    scope with an area grant): their archive shows what the school wrote."""
    if (
        scope is None
        or not may(scope, action)
        or not scope.is_school
        or limit(scope.role, action) != Limit.AREA
    ):
        return NOTHING
    return Q(placements__school_id=scope.school_id)


def whole_archive(scope: Scope | None, action: str, student: Any) -> bool:
    """Does the scope read every part of this child's archive (not only its own school's)?"""
    from xueji.students.models import Student

    return Student.objects.filter(archive_students(scope, action), pk=student.pk).exists()
