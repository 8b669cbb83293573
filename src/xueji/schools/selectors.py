"""Reads of schools and classes, always limited to the caller's scope."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from xueji.access.policy import Action
from xueji.access.scope import classes_visible, schools_visible, scope_of
from xueji.schools.models import AcademicYear, School, SchoolClass, academic_start_year


def schools_in_scope(user: Any) -> QuerySet[School]:
    """All schools the user may see (school.view in the permission matrix)."""
    return School.objects.filter(schools_visible(scope_of(user), Action.SCHOOL_VIEW))


def school_get(user: Any, school_id: int) -> School | None:
    return schools_in_scope(user).select_related("county").filter(pk=school_id).first()


def shown_academic_year(school_id: int, on: datetime.date | None = None) -> AcademicYear | None:
    """The year whose classes a school works with: the current one, else its latest with classes."""
    current = academic_start_year(on or timezone.localdate())
    years = AcademicYear.objects.filter(
        pk__in=SchoolClass.objects.filter(school_id=school_id).values("academic_year_id")
    )
    return (
        years.filter(start_year=current).first()
        or years.filter(start_year__lt=current).order_by("-start_year").first()
        or years.order_by("start_year").first()
    )


def school_classes(user: Any, school_id: int) -> list[SchoolClass]:
    """The classes of a school in its shown academic year (empty outside the user's scope)."""
    if school_get(user, school_id) is None:
        return []
    year = shown_academic_year(school_id)
    if year is None:
        return []
    return list(
        SchoolClass.objects.filter(school_id=school_id, academic_year=year)
        .select_related("academic_year", "class_teacher")
        .order_by("grade", "number")
    )


def class_get(user: Any, class_id: int) -> SchoolClass | None:
    """One class whose roster the user may see: its school inside the user's area, or, for a
    class teacher, an own class while the county's verification window is open."""
    return (
        SchoolClass.objects.filter(classes_visible(scope_of(user), Action.ROSTER_VIEW))
        .select_related("school", "academic_year", "class_teacher")
        .filter(pk=class_id)
        .first()
    )


def school_list(
    user: Any,
    *,
    division_code: str | None = None,
    kind: str | None = None,
    query: str = "",
    limit: int = 100,
    offset: int = 0,
) -> list[School]:
    """Schools in scope (one page), by division (province, city or county code), kind, name
    or code, in school-code order."""
    schools = schools_in_scope(user).select_related("county")
    if division_code:
        schools = schools.filter(
            Q(county_id=division_code) | Q(city_id=division_code) | Q(province_id=division_code)
        )
    if kind:
        schools = schools.filter(kind=kind)
    term = query.strip()
    if term:
        schools = schools.filter(Q(name__contains=term) | Q(code__startswith=term))
    return list(schools.order_by("code")[offset : offset + limit])
