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


# ---- the registry of schools -------------------------------------------------------------------


class SchoolState:
    OPEN = "open"
    CLOSED = "closed"
    ANY = "any"


def school_registry(
    user: Any,
    *,
    county_code: str = "",
    kind: str = "",
    state: str = SchoolState.OPEN,
    query: str = "",
) -> QuerySet[School]:
    """The registry's list: schools in scope by county-level division (or any division code),
    kind, open or closed, name or code; in school-code order, for a paginator."""
    schools = schools_in_scope(user).select_related("county", "central_school", "merged_into")
    if county_code:
        schools = schools.filter(
            Q(county_id=county_code) | Q(city_id=county_code) | Q(province_id=county_code)
        )
    if kind:
        schools = schools.filter(kind=kind)
    if state == SchoolState.OPEN:
        schools = schools.filter(closed_on__isnull=True)
    elif state == SchoolState.CLOSED:
        schools = schools.filter(closed_on__isnull=False)
    term = query.strip()
    if term:
        schools = schools.filter(Q(name__contains=term) | Q(code__startswith=term))
    return schools.order_by("code")


def school_record(user: Any, school_id: int) -> School | None:
    """One school's registry entry, inside the user's scope."""
    return (
        schools_in_scope(user)
        .select_related("county", "city", "province", "central_school", "merged_into")
        .filter(pk=school_id)
        .first()
    )


def central_school_choices(user: Any, county_code: str | None = None) -> list[School]:
    """Open schools in scope that may manage a teaching point (not teaching points), by code;
    of one county when given."""
    schools = schools_in_scope(user).filter(closed_on__isnull=True).exclude(kind="teaching_point")
    if county_code:
        schools = schools.filter(county_id=county_code)
    return list(schools.select_related("county").order_by("county_id", "code")[:2000])
