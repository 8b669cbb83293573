"""Reads of student records, always limited to the caller's scope."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.db.models import Count, Q, QuerySet

from xueji.access.scope import scope_of, students_visible
from xueji.core.idnumbers import normalize
from xueji.students.models import ON_ROLL_STATES, Placement, Student, StudentNumberAlias

_STUDENT_NUMBER = re.compile(r"^[GJL]\d{17}[\dX]$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_LATIN = re.compile(r"^[a-z]+$")


def students_in_scope(user: Any) -> QuerySet[Student]:
    """All student records the user may see."""
    return Student.objects.filter(students_visible(scope_of(user)))


def student_get(user: Any, student_id: Any) -> Student | None:
    """One record by its internal id, or None when it does not exist or lies outside the scope."""
    return (
        students_in_scope(user)
        .select_related("school", "birthplace", "native_place", "hukou_division")
        .filter(pk=student_id)
        .first()
    )


def student_by_number(user: Any, number: str) -> Student | None:
    """Exact lookup by a current or former student number, or by a resident ID number."""
    number = normalize(number)
    visible = students_in_scope(user).select_related("school")
    if _STUDENT_NUMBER.match(number):
        found = visible.filter(student_number=number).first()
        if found is not None:
            return found
        alias = StudentNumberAlias.objects.filter(number=number).only("student_id").first()
        return None if alias is None else visible.filter(pk=alias.student_id).first()
    if _ID_NUMBER.match(number):
        return visible.filter(id_doc_type="1", id_number=number).first()
    return None


def student_search(
    user: Any,
    *,
    query: str = "",
    school_id: int | None = None,
    grade: int | None = None,
    class_id: int | None = None,
    limit: int = 50,
) -> list[Student]:
    """Search by number, name (prefix), pinyin or pinyin initials, within school, grade or class."""
    query = query.strip()
    if query:
        exact = student_by_number(user, query)
        if exact is not None:
            return [exact]
    students = students_in_scope(user).select_related("school")
    if query:
        lowered = query.lower().replace(" ", "")
        if _LATIN.match(lowered):
            students = students.filter(
                Q(name_pinyin__startswith=lowered) | Q(name_initials__startswith=lowered)
            )
        else:
            students = students.filter(name__startswith=query)
    if school_id is not None:
        students = students.filter(school_id=school_id)
    if grade is not None or class_id is not None:
        open_placements = Placement.objects.filter(end_date__isnull=True)
        if grade is not None:
            open_placements = open_placements.filter(grade=grade)
        if class_id is not None:
            open_placements = open_placements.filter(school_class_id=class_id)
        students = students.filter(pk__in=open_placements.values("student_id"))
    return list(students.order_by("name_pinyin", "id")[:limit])


def class_roster(user: Any, class_id: int) -> list[Student]:
    """The students placed in a class now, in pinyin order."""
    return list(
        students_in_scope(user)
        .filter(placements__school_class_id=class_id, placements__end_date__isnull=True)
        .order_by("name_pinyin", "id")
    )


def placement_on(student_id: Any, on: datetime.date) -> Placement | None:
    """Where the record sat on a date: the placement with start ≤ date < end."""
    return (
        Placement.objects.select_related("school", "school_class")
        .filter(student_id=student_id, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .order_by("-start_date")
        .first()
    )


def placement_history(student_id: Any) -> list[Placement]:
    return list(
        Placement.objects.select_related("school", "school_class", "school_class__academic_year")
        .filter(student_id=student_id)
        .order_by("start_date")
    )


def class_counts(school_id: int) -> dict[int, dict[str, int]]:
    """Students on roll per class of a school, by sex: {class_id: {"1": boys, "2": girls}}."""
    rows = (
        Placement.objects.filter(
            school_id=school_id, end_date__isnull=True, student__state__in=ON_ROLL_STATES
        )
        .values("school_class_id", "student__sex")
        .annotate(n=Count("id"))
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["school_class_id"], {})[row["student__sex"]] = row["n"]
    return counts


def student_record(user: Any, student_id: Any) -> Student | None:
    """The full record in scope: basic information, family, placement history, former numbers."""
    from django.db.models import Prefetch

    return (
        students_in_scope(user)
        .select_related("school", "birthplace", "native_place", "hukou_division")
        .prefetch_related(
            "family",
            "former_numbers",
            Prefetch(
                "placements",
                queryset=Placement.objects.select_related(
                    "school", "school_class", "school_class__academic_year"
                ).order_by("start_date"),
            ),
        )
        .filter(pk=student_id)
        .first()
    )


def class_with_roster(user: Any, class_id: int) -> tuple[Any, list[Student]] | None:
    """A class in scope and the students placed in it now, or None outside the scope."""
    from xueji.schools.selectors import class_get

    school_class = class_get(user, class_id)
    if school_class is None:
        return None
    return school_class, class_roster(user, class_id)
