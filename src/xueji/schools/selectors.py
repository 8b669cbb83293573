"""Reads of schools and classes, always limited to the caller's scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import Scope, classes_visible, schools_visible, scope_of
from xueji.core import codes
from xueji.geo.models import Division
from xueji.schools.models import AcademicYear, School, SchoolClass, academic_start_year


@dataclass
class ClassSummary:
    school_class: SchoolClass
    boys: int = 0
    girls: int = 0

    @property
    def total(self) -> int:
        return self.boys + self.girls


@dataclass
class GradeSummary:
    grade: int
    classes: list[ClassSummary] = field(default_factory=list)

    @property
    def boys(self) -> int:
        return sum(c.boys for c in self.classes)

    @property
    def girls(self) -> int:
        return sum(c.girls for c in self.classes)

    @property
    def total(self) -> int:
        return self.boys + self.girls


@dataclass
class SchoolOverview:
    """A school's grades and classes in one academic year, with the students on roll."""

    school: School
    academic_year: AcademicYear | None
    grades: list[GradeSummary]

    @property
    def boys(self) -> int:
        return sum(g.boys for g in self.grades)

    @property
    def girls(self) -> int:
        return sum(g.girls for g in self.grades)

    @property
    def total(self) -> int:
        return self.boys + self.girls


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


def school_overview(user: Any, school_id: int) -> SchoolOverview | None:
    """Grades and classes of a school with boys, girls and totals on roll; None outside scope."""
    from xueji.students.selectors import class_counts

    school = school_get(user, school_id)
    if school is None:
        return None
    year = shown_academic_year(school_id)
    classes = school_classes(user, school_id)
    counts = class_counts(school_id)
    grades: dict[int, GradeSummary] = {}
    for school_class in classes:
        by_sex = counts.get(school_class.pk, {})
        grades.setdefault(school_class.grade, GradeSummary(school_class.grade)).classes.append(
            ClassSummary(
                school_class=school_class,
                boys=by_sex.get(codes.Sex.MALE, 0),
                girls=by_sex.get(codes.Sex.FEMALE, 0),
            )
        )
    return SchoolOverview(school=school, academic_year=year, grades=list(grades.values()))


def _on_roll_count(sex: str) -> Coalesce:
    from xueji.students.models import ON_ROLL_STATES, Student

    counted = (
        Student.objects.filter(school=OuterRef("pk"), state__in=ON_ROLL_STATES, sex=sex)
        .order_by()
        .values("school")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@dataclass
class BureauOverview:
    """A bureau's division and the schools inside it (one page), with students on roll."""

    scope: Scope
    division: Division | None
    schools: QuerySet[School]
    counties: list[Division]


def bureau_overview(user: Any, *, county_code: str = "", query: str = "") -> BureauOverview | None:
    """For county, city, province and nation users: the schools in scope with their counts.

    The counts are correlated subqueries, so a page of schools costs one index scan per school,
    whatever the size of the division.
    """
    scope = scope_of(user)
    if scope is None or scope.level == ScopeLevel.SCHOOL:
        return None
    division = (
        Division.objects.filter(pk=scope.division_code).first() if scope.division_code else None
    )
    schools = schools_in_scope(user).select_related("county")
    if county_code:
        schools = schools.filter(county_id=county_code)
    if query.strip():
        term = query.strip()
        schools = schools.filter(Q(name__contains=term) | Q(code__startswith=term))
    schools = schools.annotate(
        boys=_on_roll_count(codes.Sex.MALE), girls=_on_roll_count(codes.Sex.FEMALE)
    ).order_by("county_id", "code")
    counties = list(
        Division.objects.filter(
            pk__in=schools_in_scope(user).order_by().values("county_id").distinct()
        ).order_by("code")
    )
    return BureauOverview(scope=scope, division=division, schools=schools, counties=counties)


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
