"""What the home pages show of a school or a bureau's area: the grades and classes, or the
schools, with the students on roll. The school system (xueji.schools) says which schools and
classes the user sees; the counts are the record's, so the overview lives here, above both."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from xueji.access.models import ScopeLevel
from xueji.access.scope import Scope, scope_of
from xueji.core import codes
from xueji.geo.models import Division
from xueji.schools.models import AcademicYear, School, SchoolClass
from xueji.schools.selectors import (
    school_classes,
    school_get,
    schools_in_scope,
    shown_academic_year,
)
from xueji.students.models import ON_ROLL_STATES, Student
from xueji.students.selectors import class_counts


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


def school_overview(user: Any, school_id: int) -> SchoolOverview | None:
    """Grades and classes of a school with boys, girls and totals on roll; None outside scope."""
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
