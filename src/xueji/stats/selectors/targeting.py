"""The area a report is about: resolved from a TargetSpec (by default the caller's own area)
inside the caller's scope, else it does not exist (NotFound); with its path from the caller's
own area (breadcrumbs) and the areas one level down (units)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action, Limit, limit
from xueji.access.scope import (
    PermissionRefused,
    Scope,
    division_in_area,
    may,
    school_in_area,
    scope_of,
)
from xueji.core.errors import NotFound
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolClass, grade_label
from xueji.stats import sql
from xueji.stats.policy import small_cell_threshold, suppresses_small_cells
from xueji.stats.tables import Cube, Shown
from xueji.stats.targets import CHILD_LEVEL, CODE, DIVISION_LEVELS, TargetSpec
from xueji.verification.limits import open_window_counties


@dataclass(frozen=True)
class Unit:
    """An area below the target, for drilling down and per-unit tables."""

    key: Hashable
    label: str
    spec: str
    # The division's code or the school's 学校标识码 (found by it, shown beside the name).
    code: str = ""


@dataclass
class Target:
    """An area inside the caller's scope, resolved: its name, its place and its units."""

    spec: TargetSpec
    label: str
    area: sql.Area
    scope: Scope
    breadcrumbs: list[tuple[str, str]]
    division: Division | None = None
    school: School | None = None
    school_class: SchoolClass | None = None
    units: list[Unit] = field(default_factory=list)
    # Set for a class teacher: exact while the county's window opens the class's records.
    exact_figures: bool | None = None

    @property
    def children(self) -> list[Unit]:
        """The areas one level down, for the area picker: a school's grades, else its units."""
        if self.level == "school":
            return _grades_of(self)
        return self.units

    @property
    def level(self) -> str:
        return self.spec.level

    @property
    def unit_level(self) -> str | None:
        return CHILD_LEVEL[self.spec.level]

    @property
    def movement_area(self) -> sql.Area:
        """For moves between schools: a grade or a class counts as its school."""
        if self.level in ("grade", "class") and self.school is not None:
            return sql.Area("school", school_id=self.school.pk)
        return self.area

    @property
    def exact(self) -> bool:
        if self.exact_figures is not None:
            return self.exact_figures
        return not suppresses_small_cells(self.scope)

    def shown(self, cube: Cube) -> Shown:
        return Shown(cube, small_cell_threshold(), not self.exact)

    def unit_label(self, key: Hashable) -> str:
        for unit in self.units:
            if unit.key == key:
                return unit.label
        return str(key)


def _stats_scope(user: Any, action: str = Action.STATS_VIEW) -> Scope:
    """The matrix's "see statistics" governs the head counts of an area (a class teacher's:
    of the own classes); the annual statistics and mobility, which count moves between
    schools, need "see schools and classes with their head counts". A user without a role
    finds nothing."""
    scope = scope_of(user)
    if scope is None:
        raise _outside()
    if not may(scope, action):
        raise PermissionRefused("forbidden", _("Your role does not allow this."), action=action)
    return scope


def _own_classes_only(scope: Scope) -> bool:
    return limit(scope.role, Action.STATS_VIEW) == Limit.OWN_CLASSES


def _own_classes(scope: Scope) -> Any:
    """The classes a class teacher holds at the school, newest year first."""
    return SchoolClass.objects.filter(
        class_teacher_id=scope.user_id, school_id=scope.school_id or 0
    ).order_by("-academic_year__start_year", "grade", "number")


def _home_spec(scope: Scope) -> TargetSpec:
    if _own_classes_only(scope):
        own = _own_classes(scope).values_list("pk", flat=True).first()
        if own is None:
            raise _outside()
        return TargetSpec("class", class_id=own)
    if scope.level == ScopeLevel.NATION:
        return TargetSpec("nation")
    if scope.level == ScopeLevel.SCHOOL:
        return TargetSpec("school", school_id=scope.school_id)
    return TargetSpec(scope.level, code=scope.division_code or "")


def _outside() -> NotFound:
    return NotFound("not_found", _("There is no such area in your scope."))


def _division_chain(division: Division) -> list[Division]:
    """The division and its ancestors, province first."""
    chain = [division]
    while chain[0].parent_id is not None:
        parent = Division.objects.filter(pk=chain[0].parent_id).first()
        if parent is None:
            break
        chain.insert(0, parent)
    return chain


def _spec_of_division(division: Division) -> TargetSpec:
    # A city without counties (东莞) is its own county: its figures are by school.
    level = "county" if division.county_level else division.level
    return TargetSpec(level, code=division.code)


# The refusal of a bare code that names no area the caller may open (404, naming the code).
UNKNOWN_CODE = "unknown_code"


def _of_code(scope: Scope, spec: TargetSpec) -> TargetSpec:
    """The area a bare code names: a division at its own level (a city without counties as a
    county), a school by its 学校标识码. A division code the table does not hold is not found,
    naming it (divisions are public); so is a school code outside the scope, whether a school
    has it or not."""
    if spec.level != CODE:
        return spec
    if len(spec.code) == 6:
        division = Division.objects.filter(code=spec.code).first()
        if division is None:
            raise NotFound(
                UNKNOWN_CODE, _("No division has the code %(code)s.") % {"code": spec.code}
            )
        return _spec_of_division(division)
    school = School.objects.filter(code=spec.code).first()
    if school is None or not school_in_area(scope, school):
        raise NotFound(
            UNKNOWN_CODE,
            _("There is no school with the code %(code)s in your scope.") % {"code": spec.code},
        )
    return TargetSpec("school", school_id=school.pk)


def _as_county(spec: TargetSpec) -> TargetSpec:
    """The spec of a city without counties, asked for as a city, is that of its county."""
    if spec.level == "city" and Division.objects.filter(code=spec.code, county_level=True).exists():
        return TargetSpec("county", code=spec.code)
    return spec


def _visible_division(scope: Scope, division: Division, level: str) -> bool:
    if scope.level == ScopeLevel.NATION:
        return True
    if scope.level == ScopeLevel.SCHOOL or level not in DIVISION_LEVELS:
        return False
    depth = DIVISION_LEVELS.index
    return depth(level) >= depth(scope.level) and division_in_area(scope, division.code)


def _crumbs(scope: Scope, chain: Sequence[tuple[str, TargetSpec]]) -> list[tuple[str, str]]:
    """The path from the caller's own area down to the target (the parts the caller may open)."""
    home = str(_as_county(_home_spec(scope)))
    specs = [str(spec) for _label, spec in chain]
    start = specs.index(home) if home in specs else 0
    return [(label, str(spec)) for label, spec in chain[start:]]


def stats_target(
    user: Any, spec: TargetSpec | None = None, action: str = Action.STATS_VIEW
) -> Target:
    """The area a report is about: `spec`, by default the caller's own, inside the scope (for
    a class teacher: one of the own classes)."""
    scope = _stats_scope(user, action)
    spec = _as_county(_of_code(scope, spec or _home_spec(scope)))
    if _own_classes_only(scope):
        return _own_class_target(scope, spec)
    nation = (_("Nation"), TargetSpec("nation"))
    if spec.level == "nation":
        if scope.level != ScopeLevel.NATION:
            raise _outside()
        target = Target(spec, _("Nation"), sql.Area("nation"), scope, _crumbs(scope, [nation]))
        target.units = [
            Unit(d.code, d.name, str(_spec_of_division(d)), d.code)
            for d in Division.objects.filter(level="province").order_by("code")
        ]
        return target
    if spec.level in DIVISION_LEVELS:
        division = (
            Division.objects.filter(code=spec.code, county_level=True).first()
            if spec.level == "county"
            else Division.objects.filter(code=spec.code, level=spec.level).first()
        )
        if division is None or not _visible_division(scope, division, spec.level):
            raise _outside()
        chain = [nation] + [(d.name, _spec_of_division(d)) for d in _division_chain(division)]
        target = Target(
            spec,
            division.name,
            sql.Area(spec.level, code=division.code),
            scope,
            _crumbs(scope, chain),
            division=division,
        )
        if spec.level == "county":
            target.units = [
                Unit(s.pk, s.name, f"school:{s.pk}", s.code)
                for s in School.objects.filter(county_id=division.code).order_by("code")
            ]
        else:
            target.units = [
                Unit(d.code, d.name, str(_spec_of_division(d)), d.code)
                for d in Division.objects.filter(parent_id=division.code).order_by("code")
            ]
        return target
    school_class = None
    if spec.level == "class":
        school_class = (
            SchoolClass.objects.select_related("school", "academic_year")
            .filter(pk=spec.class_id or 0)
            .first()
        )
        school = school_class.school if school_class is not None else None
    else:
        school = School.objects.filter(pk=spec.school_id or 0).first()
    if school is None or not school_in_area(scope, school):
        raise _outside()
    county = Division.objects.filter(code=school.county_id).first()
    chain = [nation]
    if county is not None:
        chain += [(d.name, _spec_of_division(d)) for d in _division_chain(county)]
    chain.append((school.name, TargetSpec("school", school_id=school.pk)))
    if spec.level == "school":
        target = Target(
            spec, school.name, sql.Area("school", school_id=school.pk), scope, [], school=school
        )
        target.units = [
            Unit(c.pk, f"{grade_label(c.grade)} {c.name}", f"class:{c.pk}")
            for c in _classes(school)
        ]
    elif spec.level == "grade":
        assert spec.grade is not None
        label = f"{school.name} · {grade_label(spec.grade)}"
        chain.append((grade_label(spec.grade), spec))
        target = Target(
            spec,
            label,
            sql.Area("grade", school_id=school.pk, grade=spec.grade),
            scope,
            [],
            school=school,
        )
        target.units = [
            Unit(c.pk, f"{grade_label(c.grade)} {c.name}", f"class:{c.pk}")
            for c in _classes(school)
            if c.grade == spec.grade
        ]
    else:
        assert school_class is not None
        grade_spec = TargetSpec("grade", school_id=school.pk, grade=school_class.grade)
        chain.append((grade_label(school_class.grade), grade_spec))
        label = f"{school.name} · {grade_label(school_class.grade)} {school_class.name}"
        chain.append((school_class.name, spec))
        target = Target(
            spec,
            label,
            sql.Area("class", class_id=school_class.pk),
            scope,
            [],
            school=school,
            school_class=school_class,
        )
    target.breadcrumbs = _crumbs(scope, chain)
    return target


def _own_class_target(scope: Scope, spec: TargetSpec) -> Target:
    """A class teacher's class: its counts, exact while the county's verification window is
    open (the teacher may then open the records), else with small cells suppressed."""
    school_class = (
        _own_classes(scope).select_related("school").filter(pk=spec.class_id or 0).first()
        if spec.level == "class"
        else None
    )
    if school_class is None:
        raise _outside()
    school = school_class.school
    label = f"{school.name} · {grade_label(school_class.grade)} {school_class.name}"
    return Target(
        spec,
        label,
        sql.Area("class", class_id=school_class.pk),
        scope,
        [(label, str(spec))],
        school=school,
        school_class=school_class,
        exact_figures=open_window_counties().filter(county_id=school.county_id).exists(),
    )


def _classes(school: School) -> list[SchoolClass]:
    """Every class the school has had, newest year first, then by grade and number."""
    return list(
        SchoolClass.objects.filter(school=school)
        .select_related("academic_year")
        .order_by("-academic_year__start_year", "grade", "number")
    )


def _grades_of(target: Target) -> list[Unit]:
    if target.school is None:
        return []
    return [
        Unit(g, grade_label(g), f"grade:{target.school.pk}:{g}")
        for g in range(target.school.first_grade, target.school.last_grade + 1)
    ]
