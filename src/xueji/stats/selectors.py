"""Statistics for any area and any date, limited to what the caller may see.

Every report is computed from the placement history as it stands (no cache; the province and
nation tables read the head-count rollup the database keeps in each writing transaction, see
xueji.stats.rollup): the SQL is in
xueji.stats.sql, the cubes, suppression and tables in xueji.stats.tables, the wording of each
definition in xueji.stats.definitions. A caller asks for an area (a TargetSpec; by default the
own area) that must lie inside the own scope, else it does not exist (NotFound); figures shown to
those the suppression rule applies to (xueji.stats.policy) hide small cells.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action, Limit, limit
from xueji.access.scope import (
    PermissionRefused,
    Scope,
    division_in_area,
    may,
    open_window_counties,
    school_in_area,
    scope_of,
)
from xueji.core import codes
from xueji.core.errors import NotFound, ServiceError
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolClass, SchoolKind, grade_label
from xueji.stats import definitions, sql
from xueji.stats.policy import small_cell_threshold, suppresses_small_cells
from xueji.stats.tables import HIDDEN, Cell, Cube, Row, Shown, Table, table_of
from xueji.stats.targets import CHILD_LEVEL, DIVISION_LEVELS, TargetSpec

SEXES = (codes.Sex.MALE.value, codes.Sex.FEMALE.value)
HIDDEN_DERIVED = HIDDEN
# The longest period a mobility report covers at once.
MAX_PERIOD_DAYS = 366 * 3


# ---- the area a report is about ----------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """An area below the target, for drilling down and per-unit tables."""

    key: Hashable
    label: str
    spec: str


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
    return TargetSpec(division.level, code=division.code)


def _visible_division(scope: Scope, division: Division) -> bool:
    if scope.level == ScopeLevel.NATION:
        return True
    if scope.level == ScopeLevel.SCHOOL or division.level not in DIVISION_LEVELS:
        return False
    depth = DIVISION_LEVELS.index
    return depth(division.level) >= depth(scope.level) and division_in_area(scope, division.code)


def _crumbs(scope: Scope, chain: Sequence[tuple[str, TargetSpec]]) -> list[tuple[str, str]]:
    """The path from the caller's own area down to the target (the parts the caller may open)."""
    home = str(_home_spec(scope))
    specs = [str(spec) for _label, spec in chain]
    start = specs.index(home) if home in specs else 0
    return [(label, str(spec)) for label, spec in chain[start:]]


def stats_target(
    user: Any, spec: TargetSpec | None = None, action: str = Action.STATS_VIEW
) -> Target:
    """The area a report is about: `spec`, by default the caller's own, inside the scope (for
    a class teacher: one of the own classes)."""
    scope = _stats_scope(user, action)
    spec = spec or _home_spec(scope)
    if _own_classes_only(scope):
        return _own_class_target(scope, spec)
    nation = (_("Nation"), TargetSpec("nation"))
    if spec.level == "nation":
        if scope.level != ScopeLevel.NATION:
            raise _outside()
        target = Target(spec, _("Nation"), sql.Area("nation"), scope, _crumbs(scope, [nation]))
        target.units = [
            Unit(d.code, d.name, str(_spec_of_division(d)))
            for d in Division.objects.filter(level="province").order_by("code")
        ]
        return target
    if spec.level in DIVISION_LEVELS:
        division = Division.objects.filter(code=spec.code, level=spec.level).first()
        if division is None or not _visible_division(scope, division):
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
                Unit(s.pk, s.name, f"school:{s.pk}")
                for s in School.objects.filter(county_id=division.code).order_by("code")
            ]
        else:
            target.units = [
                Unit(d.code, d.name, str(_spec_of_division(d)))
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


# ---- labels ------------------------------------------------------------------------------------


def _grade(value: Hashable) -> str:
    return grade_label(int(cast(int, value)))


def sex_label(code: Hashable) -> str:
    return str(dict(codes.Sex.choices).get(str(code), code))


def age_label(age: Hashable) -> str:
    return _("%(age)s yrs") % {"age": age}


def _choice_labels(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices}


@dataclass(frozen=True)
class Dimension:
    key: str
    title: Callable[[], str]
    definition: Callable[[], str]
    values: Callable[[], list[str]]
    label: Callable[[Hashable], str]


def _from_choices(choices: Callable[[], Iterable[tuple[str, Any]]]) -> Callable[[Hashable], str]:
    def label(value: Hashable) -> str:
        return _choice_labels(choices()).get(str(value), str(value))

    return label


DIMENSIONS: dict[str, Dimension] = {
    "ethnicity": Dimension(
        "ethnicity",
        lambda: _("Ethnicity"),
        definitions.ethnicity,
        lambda: [],
        lambda v: codes.ETHNICITY_NAMES.get(str(v), str(v)),
    ),
    "hukou_nature": Dimension(
        "hukou_nature",
        lambda: _("Household registration type (户口性质)"),
        definitions.hukou_nature,
        lambda: list(codes.HukouNature.values),
        _from_choices(lambda: codes.HukouNature.choices),
    ),
    "left_behind": Dimension(
        "left_behind",
        lambda: _("Left-behind children (留守儿童)"),
        definitions.left_behind,
        lambda: list(codes.LeftBehind.values),
        _from_choices(lambda: codes.LeftBehind.choices),
    ),
    "migrant_child": Dimension(
        "migrant_child",
        lambda: _("Children of migrant workers (随迁子女)"),
        definitions.migrant_child,
        lambda: ["1", "0"],
        lambda v: _("Child of a migrant worker") if str(v) == "1" else _("Other children"),
    ),
    "disability": Dimension(
        "disability",
        lambda: _("Disability"),
        definitions.disability,
        lambda: list(codes.DisabilityType.values),
        _from_choices(lambda: codes.DisabilityType.choices),
    ),
    "boarding": Dimension(
        "boarding",
        lambda: _("Day students and boarders"),
        definitions.boarding,
        lambda: list(codes.AttendanceMode.values),
        _from_choices(lambda: codes.AttendanceMode.choices),
    ),
    "school_kind": Dimension(
        "school_kind",
        lambda: _("Kind of school"),
        definitions.school_kind,
        lambda: list(SchoolKind.values),
        _from_choices(lambda: SchoolKind.choices),
    ),
}


# ---- shared layouts ----------------------------------------------------------------------------


def _sex_columns() -> list[tuple[str, dict[str, Hashable]]]:
    return [
        (_("Total"), {}),
        (_("Boys"), {"sex": codes.Sex.MALE.value}),
        (_("Girls"), {"sex": codes.Sex.FEMALE.value}),
    ]


def _age_table(
    shown: Shown,
    *,
    key: str,
    title: str,
    where: dict[str, Hashable] | None = None,
) -> Table:
    """Grade × age × sex: a row per grade with a boys' and a girls' row under it; a column per
    age in completed years; totals along both."""
    where = where or {}
    cube = shown.cube
    grades = [g for g in cube.values[cube.dims.index("grade")] if cube.get(**where, grade=g)]
    ages = [a for a in cube.values[cube.dims.index("age")] if cube.get(**where, age=a)]
    rows: list[tuple[str, dict[str, Hashable], bool, int]] = []
    for grade in grades:
        rows.append((_grade(grade), {**where, "grade": grade}, False, 0))
        rows.append((_("Boys"), {**where, "grade": grade, "sex": SEXES[0]}, False, 1))
        rows.append((_("Girls"), {**where, "grade": grade, "sex": SEXES[1]}, False, 1))
    rows.append((_("All grades"), dict(where), True, 0))
    rows.append((_("Boys"), {**where, "sex": SEXES[0]}, True, 1))
    rows.append((_("Girls"), {**where, "sex": SEXES[1]}, True, 1))
    columns: list[tuple[str, dict[str, Hashable]]] = [(_("Total"), {})]
    columns += [(age_label(a), {"age": a}) for a in ages]
    return table_of(
        shown,
        key=key,
        title=title,
        definition=definitions.grade_age_sex(),
        corner=_("Grade"),
        rows=rows,
        columns=columns,
    )


def _one_way_table(
    shown: Shown,
    dimension: str,
    *,
    key: str,
    title: str,
    definition: str,
    corner: str,
    label: Callable[[Hashable], str],
    keep_empty: bool = False,
    where: dict[str, Hashable] | None = None,
) -> Table:
    """A row per value of one dimension (by sex in columns when the cube has sex), and a total."""
    where = where or {}
    cube = shown.cube
    values = [
        v
        for v in cube.values[cube.dims.index(dimension)]
        if keep_empty or cube.get(**{dimension: v})
    ]
    rows = [(label(v), {**where, dimension: v}, False, 0) for v in values]
    rows.append((_("Total"), dict(where), True, 0))
    columns = _sex_columns() if "sex" in cube.dims else [(_("Children"), {})]
    return table_of(
        shown,
        key=key,
        title=title,
        definition=definition,
        corner=corner,
        rows=rows,
        columns=columns,
    )


def _today() -> datetime.date:
    return timezone.localdate()


# ---- grade × age × sex -------------------------------------------------------------------------


@dataclass
class AgeReport:
    target: Target
    on: datetime.date
    table: Table
    cube: Cube


def age_report(user: Any, spec: TargetSpec | None, on: datetime.date | None = None) -> AgeReport:
    """Children counted on a date by grade, age in completed years and sex."""
    target = stats_target(user, spec)
    on = on or _today()
    rows = sql.on_roll(on, target.area, target.scope, ["grade", "age", "sex"])
    cube = Cube.from_rows(["grade", "age", "sex"], rows, [None, None, SEXES])
    table = _age_table(
        target.shown(cube), key="grade-age-sex", title=_("Students by grade, age and sex")
    )
    return AgeReport(target, on, table, cube)


# ---- one dimension at a time -------------------------------------------------------------------


@dataclass
class BreakdownReport:
    target: Target
    on: datetime.date
    tables: list[Table]


def breakdown_report(
    user: Any,
    spec: TargetSpec | None,
    on: datetime.date | None = None,
    dimensions: Sequence[str] | None = None,
) -> BreakdownReport:
    """Children counted on a date by each dimension (ethnicity, 户口性质, 留守, 随迁, disability,
    boarding, school kind), each by sex."""
    target = stats_target(user, spec)
    on = on or _today()
    chosen = list(dimensions or DIMENSIONS)
    unknown = [d for d in chosen if d not in DIMENSIONS]
    if unknown:
        raise NotFound("not_found", _("There is no such table."))
    # One pass over the placements grouped by every dimension at once; each table is then the
    # margin of those groups over the other dimensions.
    rows = sql.on_roll(on, target.area, target.scope, [*chosen, "sex"])
    tables = []
    for index, key in enumerate(chosen):
        dimension = DIMENSIONS[key]
        cube = Cube.from_rows(
            [key, "sex"],
            [(row[index], row[-2], row[-1]) for row in rows],
            [dimension.values() or None, SEXES],
        )
        tables.append(
            _one_way_table(
                target.shown(cube),
                key,
                key=key,
                title=dimension.title(),
                definition=dimension.definition(),
                corner=dimension.title(),
                label=dimension.label,
                keep_empty=key in ("migrant_child", "boarding", "left_behind"),
            )
        )
    return BreakdownReport(target, on, tables)


# ---- the dashboard -----------------------------------------------------------------------------


@dataclass
class Figure:
    """One number of the dashboard, with what it means."""

    key: str
    label: str
    cell: Cell
    definition: str


@dataclass
class Dashboard:
    target: Target
    on: datetime.date
    figures: list[Figure]
    movement: list[Figure]
    units: Table | None
    grades: Table
    kinds: Table | None
    since: datetime.date


def dashboard_report(
    user: Any, spec: TargetSpec | None, on: datetime.date | None = None
) -> Dashboard:
    """The numbers a bureau (or a school) checks every morning, for an area on a date."""
    target = stats_target(user, spec)
    on = on or _today()
    unit_level = target.unit_level
    unit_key = unit_level if unit_level in sql.KEYS else None
    keys = [*([unit_key] if unit_key else []), "grade", "sex"]
    rows = sql.on_roll(on, target.area, target.scope, keys)
    unit_values = [u.key for u in target.units] if unit_key else []
    cube = Cube.from_rows(keys, rows, [*([unit_values] if unit_key else []), None, SEXES])
    shown = target.shown(cube)

    totals = Cube.from_rows(["sex"], [(r[-2], r[-1]) for r in rows], [SEXES])
    totals_shown = target.shown(totals)
    figures = [
        Figure("on_roll", _("Students on roll"), totals_shown.cell(), definitions.on_roll()),
        Figure("boys", _("Boys"), totals_shown.cell(sex=SEXES[0]), definitions.on_roll()),
        Figure("girls", _("Girls"), totals_shown.cell(sex=SEXES[1]), definitions.on_roll()),
    ]
    flag_keys = ["left_behind", "migrant_child", "boarding", "disability", "school_kind"]
    flag_rows = sql.on_roll(on, target.area, target.scope, flag_keys)
    flags = {
        "left_behind": (
            _("Left-behind children"),
            lambda v: v != codes.LeftBehind.NO.value,
            definitions.left_behind(),
        ),
        "migrant_child": (
            _("Children of migrant workers"),
            lambda v: v == "1",
            definitions.migrant_child(),
        ),
        "boarding": (
            _("Boarders"),
            lambda v: v == codes.AttendanceMode.BOARDING.value,
            definitions.boarding(),
        ),
        "disability": (
            _("Children with a disability"),
            lambda v: v != codes.DisabilityType.NONE.value,
            definitions.disability(),
        ),
    }
    for index, key in enumerate(flag_keys[:-1]):
        label, test, definition = flags[key]
        flag_cube = Cube.from_rows(
            ["flag"], [(bool(test(str(r[index]))), r[-1]) for r in flag_rows], [[True, False]]
        )
        figures.append(Figure(key, label, target.shown(flag_cube).cell(flag=True), definition))

    since = on - datetime.timedelta(days=6)
    movement = _movement(target, since, on)

    units_table = None
    if unit_key:
        units_table = _one_way_table(
            shown,
            unit_key,
            key="units",
            title=_units_title(unit_level),
            definition=definitions.on_roll(),
            corner=_unit_corner(unit_level),
            label=target.unit_label,
            keep_empty=unit_level not in ("class", "school"),
        )
        for row in units_table.rows:
            if not row.total:
                row.link = _unit_spec(target, row.key[unit_key])
    grade_table = _one_way_table(
        shown,
        "grade",
        key="grades",
        title=_("Students by grade and sex"),
        definition=definitions.on_roll(),
        corner=_("Grade"),
        label=_grade,
    )
    kinds_table = None
    if target.level in ("nation", *DIVISION_LEVELS):
        kind_cube = Cube.from_rows(
            ["school_kind"], [(r[-2], r[-1]) for r in flag_rows], [list(SchoolKind.values)]
        )
        dimension = DIMENSIONS["school_kind"]
        kinds_table = _one_way_table(
            target.shown(kind_cube),
            "school_kind",
            key="kinds",
            title=dimension.title(),
            definition=dimension.definition(),
            corner=dimension.title(),
            label=dimension.label,
        )
    return Dashboard(
        target=target,
        on=on,
        figures=figures,
        movement=movement,
        units=units_table,
        grades=grade_table,
        kinds=kinds_table,
        since=since,
    )


def _unit_spec(target: Target, key: Hashable) -> str:
    for unit in target.units:
        if unit.key == key:
            return unit.spec
    return ""


def _units_title(level: str | None) -> str:
    return {
        "province": _("Students on roll by province"),
        "city": _("Students on roll by city"),
        "county": _("Students on roll by county"),
        "school": _("Students on roll by school"),
        "class": _("Students on roll by class"),
    }.get(level or "", _("Students on roll"))


def _unit_corner(level: str | None) -> str:
    return {
        "province": _("Province"),
        "city": _("City"),
        "county": _("County"),
        "school": _("School"),
        "class": _("Class"),
    }.get(level or "", "")


def _movement(target: Target, start: datetime.date, end: datetime.date) -> list[Figure]:
    """Entrants, transfers in and out and departures from `start` to `end` (by sex, totals)."""
    area = target.movement_area
    figures = []
    entrant_rows = sql.entrants(start, end, target.area, target.scope, ["sex"])
    entrants = target.shown(Cube.from_rows(["sex"], entrant_rows, [SEXES]))
    figures.append(Figure("entrants", _("New entrants"), entrants.cell(), definitions.entrants()))
    if target.level in ("grade", "class"):
        return figures  # moves between schools are a school's figures, not a class's
    transfer_rows = sql.transfers(start, end, area, target.scope, [])
    directions = Cube.from_rows(["direction"], transfer_rows, [["in", "out", "within"]])
    for direction, label in (("in", _("Transfers in")), ("out", _("Transfers out"))):
        cube = Cube.from_rows(
            ["direction"], [(direction, directions.get(direction=direction))], [[direction]]
        )
        figures.append(
            Figure(
                f"transfers_{direction}",
                label,
                target.shown(cube).cell(),
                definitions.transfers(),
            )
        )
    if target.level in ("nation", *DIVISION_LEVELS, "school"):
        exit_rows = sql.exits(start, end, area, target.scope, [])
        left = Cube.from_rows(
            ["kind"],
            [(_exit_kind(state), n) for state, dated, n in exit_rows if dated],
            [["graduated", "dropped_out", "other"]],
        )
        left_shown = target.shown(left)
        figures.append(
            Figure(
                "dropouts",
                _("Dropouts"),
                left_shown.cell(kind="dropped_out"),
                definitions.dropouts(),
            )
        )
    return figures


def _exit_kind(state: str) -> str:
    if state in sql.GRADUATED_STATES:
        return "graduated"
    if state in sql.DROPOUT_STATES:
        return "dropped_out"
    return "other"


# ---- the annual statistics (事业统计) -----------------------------------------------------------


STAGES: tuple[tuple[str, int, int], ...] = (
    ("primary", 1, 6),
    ("junior", 7, 3),
    ("senior", 10, 3),
)


def census_date(start_year: int, today: datetime.date | None = None) -> datetime.date:
    """The annual statistics' reference day: 30 September of the school year (new intake is
    registered by then), or today while that day has not come yet."""
    today = today or _today()
    return min(datetime.date(start_year, 9, 30), today)


@dataclass
class AnnualReport:
    target: Target
    start_year: int
    census: datetime.date
    period_start: datetime.date
    period_end: datetime.date
    by_kind: list[Table]
    flows: Table
    undated_exits: Cell
    cohorts: Table


def annual_report(
    user: Any, spec: TargetSpec | None, start_year: int | None = None
) -> AnnualReport:
    """事业统计 of a school year: students by kind of school, grade, age and sex on the census
    date; entrants, graduates, transfers and dropouts in the year; in-school rate and attrition
    of each cohort."""
    target = stats_target(user, spec, Action.SCHOOL_VIEW)
    today = _today()
    current = today.year if today.month >= 9 else today.year - 1
    start_year = current if start_year is None else start_year
    if start_year > current or start_year < 1949:
        raise ServiceError(
            "bad_year", _("Statistics exist for school years that have begun."), field="year"
        )
    census = census_date(start_year, today)
    period_start = datetime.date(start_year, 9, 1)
    period_end = min(datetime.date(start_year + 1, 8, 31), today)

    keys = ["school_kind", "grade", "age", "sex"]
    rows = sql.on_roll(census, target.area, target.scope, keys)
    cube = Cube.from_rows(keys, rows, [list(SchoolKind.values), None, None, SEXES])
    shown = target.shown(cube)
    by_kind = []
    kind_labels = _choice_labels(SchoolKind.choices)
    for kind in cube.values[0]:
        if not cube.get(school_kind=kind):
            continue
        by_kind.append(
            _age_table(
                shown,
                key=f"annual-{kind}",
                title=_("%(kind)s: students by grade, age and sex")
                % {"kind": kind_labels[str(kind)]},
                where={"school_kind": kind},
            )
        )

    flows, undated = _annual_flows(target, period_start, period_end)
    cohorts = _cohorts(target, start_year, census)
    return AnnualReport(
        target=target,
        start_year=start_year,
        census=census,
        period_start=period_start,
        period_end=period_end,
        by_kind=by_kind,
        flows=flows,
        undated_exits=undated,
        cohorts=cohorts,
    )


def _annual_flows(target: Target, start: datetime.date, end: datetime.date) -> tuple[Table, Cell]:
    area = target.movement_area
    measures: list[tuple[str, str, str, list[tuple[Any, ...]]]] = []
    measures.append(
        (
            "entrants",
            _("New entrants"),
            definitions.entrants(),
            sql.entrants(start, end, target.area, target.scope, ["sex"]),
        )
    )
    transfer_rows = sql.transfers(start, end, area, target.scope, ["sex"])
    for direction, label in (
        ("in", _("Transfers in")),
        ("out", _("Transfers out")),
        ("within", _("Transfers between schools inside the area")),
    ):
        if direction == "within" and target.level in ("school", "grade", "class"):
            continue
        measures.append(
            (
                f"transfers_{direction}",
                label,
                definitions.transfers(),
                [(sex, n) for d, sex, n in transfer_rows if d == direction],
            )
        )
    exit_rows = sql.exits(start, end, area, target.scope, ["sex"])
    for kind, label, definition in (
        ("graduated", _("Graduates"), definitions.graduates()),
        ("dropped_out", _("Dropouts"), definitions.dropouts()),
        ("other", _("Other departures"), definitions.other_departures()),
    ):
        measures.append(
            (
                kind,
                label,
                definition,
                [
                    (sex, n)
                    for state, dated, sex, n in exit_rows
                    if dated and _exit_kind(state) == kind
                ],
            )
        )
    undated_cube = Cube.from_rows(
        ["dated"], [(bool(dated), n) for _s, dated, _x, n in exit_rows], [[False, True]]
    )
    rows = []
    notes = []
    for key, label, definition, measure_rows in measures:
        shown = target.shown(Cube.from_rows(["sex"], measure_rows, [SEXES]))
        rows.append(
            Row(
                label=label,
                cells=[shown.cell(), shown.cell(sex=SEXES[0]), shown.cell(sex=SEXES[1])],
                key=key,
                note=definition,
            )
        )
        notes.append(f"{label}: {definition}")
    table = Table(
        key="annual-flows",
        title=_("Entrants, transfers and departures in the year"),
        definition=" ".join(notes),
        corner=_("Measure"),
        columns=[label for label, _where in _sex_columns()],
        rows=rows,
        suppressed=any(c.suppressed for r in rows for c in r.cells),
    )
    return table, target.shown(undated_cube).cell(dated=False)


def _rate(part: Cell, whole: Cell) -> Cell:
    """A share in per cent; hidden when a figure it is made of is hidden."""
    if part.value is None or whole.value is None:
        return Cell(None, HIDDEN_DERIVED, suppressed=True)
    if whole.value == 0:
        return Cell(None, "–")
    return Cell(None, f"{100 * part.value / whole.value:.1f}%")


def _cohorts(target: Target, start_year: int, census: datetime.date) -> Table:
    stage_labels = {
        "primary": _("Primary (grades 1–6)"),
        "junior": _("Junior high (grades 7–9)"),
        "senior": _("Senior high (grades 10–12)"),
    }
    rows = []
    for stage, first_grade, years in STAGES:
        entries = [
            (start_year - offset, census_date(start_year - offset, census), first_grade)
            for offset in range(years)
        ]
        found = sql.cohorts(entries, census, target.area, target.scope)
        for entry_year, _day, _grade in entries:
            outcome = {"in_school": 0, "completed": 0, "attrition": 0, "other": 0}
            for year, state, n in found:
                if year != entry_year:
                    continue
                if state == "":
                    outcome["in_school"] += n
                elif state in sql.GRADUATED_STATES:
                    outcome["completed"] += n
                elif state in sql.ATTRITION_STATES:
                    outcome["attrition"] += n
                else:
                    outcome["other"] += n
            if not any(outcome.values()):
                continue
            cube = Cube.from_rows(
                ["outcome"],
                list(outcome.items()),
                [["in_school", "completed", "attrition", "other"]],
            )
            shown = target.shown(cube)
            whole = shown.cell()
            in_school = shown.cell(outcome="in_school")
            attrition = shown.cell(outcome="attrition")
            cells = [
                whole,
                in_school,
                _rate(in_school, whole),
                shown.cell(outcome="completed"),
                attrition,
                _rate(attrition, whole),
                shown.cell(outcome="other"),
            ]
            rows.append(
                Row(
                    label=_("%(stage)s, entered %(year)s")
                    % {
                        "stage": stage_labels[stage],
                        "year": f"{entry_year}–{entry_year + 1}",
                    },
                    cells=cells,
                    key={"stage": stage, "entry_year": entry_year},
                )
            )
    return Table(
        key="annual-cohorts",
        title=_("In-school rate and attrition per cohort"),
        definition=definitions.cohorts(),
        corner=_("Cohort"),
        columns=[
            _("Entered"),
            _("On roll now"),
            _("In-school rate"),
            _("Completed the stage"),
            _("Left (attrition)"),
            _("Attrition rate"),
            _("Other departures"),
        ],
        rows=rows,
        suppressed=any(c.suppressed for r in rows for c in r.cells),
    )


# ---- mobility ----------------------------------------------------------------------------------


@dataclass
class MobilityReport:
    target: Target
    start: datetime.date
    end: datetime.date
    level: str
    matrix: Table
    net: Table
    migrants: Table
    links: list[tuple[str, str, int]]
    on: datetime.date


def mobility_report(
    user: Any,
    spec: TargetSpec | None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    level: str | None = None,
) -> MobilityReport:
    """Flows of children between counties (or provinces) over a period, as an origin ×
    destination matrix, the net inflow of each unit inside the area, and the 随迁子女 counted on
    the last day by the province of their household registration. Computed live."""
    target = stats_target(user, spec, Action.SCHOOL_VIEW)
    today = _today()
    end = end or today
    start = start or end - datetime.timedelta(days=29)
    if start > end:
        raise ServiceError("bad_period", _("The period ends before it starts."), field="start")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ServiceError(
            "bad_period", _("Choose a period of at most three years."), field="start"
        )
    level = level or ("province" if target.level == "nation" else "county")
    if level not in ("county", "city", "province"):
        raise ServiceError("bad_level", _("Choose county, city or province."), field="level")

    flow_rows = sql.flows(start, end, target.movement_area, target.scope, level)
    volume: dict[str, int] = {}
    for origin, destination, n in flow_rows:
        volume[origin] = volume.get(origin, 0) + n
        volume[destination] = volume.get(destination, 0) + n
    units = sorted(volume, key=lambda code: (-volume[code], code))
    names = _division_names(units)
    cube = Cube.from_rows(["origin", "destination"], flow_rows, [units, units])
    shown = target.shown(cube)
    origins = [u for u in units if cube.get(origin=u)]
    destinations = [u for u in units if cube.get(destination=u)]
    matrix = table_of(
        shown,
        key="mobility-matrix",
        title=_("Moves between places: origin (rows) × destination (columns)"),
        definition=definitions.flows(),
        corner=_("From \\ To"),
        rows=[(names.get(o, o), {"origin": o}, False, 0) for o in origins]
        + [(_("Arrivals"), {}, True, 0)],
        columns=[(names.get(d, d), {"destination": d}) for d in destinations]
        + [(_("Departures"), {})],
    )
    links = [
        (names.get(o, o), names.get(d, d), n)
        for o in origins
        for d in destinations
        if (n := shown.value(origin=o, destination=d) or 0) > 0
    ]

    inside = [u for u in units if _unit_inside(target, level, u)]
    net_rows = []
    for unit in inside:
        arrived = shown.cell(destination=unit)
        left = shown.cell(origin=unit)
        if arrived.value is None or left.value is None:
            net = Cell(None, HIDDEN_DERIVED, suppressed=True)
        else:
            net = Cell(arrived.value - left.value, f"{arrived.value - left.value:+,}")
        net_rows.append(Row(label=names.get(unit, unit), cells=[arrived, left, net], key=unit))
    net_table = Table(
        key="mobility-net",
        title=_("Net inflow"),
        definition=definitions.net_inflow(),
        corner=_unit_corner(level),
        columns=[_("Arrivals"), _("Departures"), _("Net inflow")],
        rows=net_rows,
        suppressed=shown.any_hidden,
    )

    migrant_rows = sql.on_roll(end, target.area, target.scope, ["migrant_child", "origin_province"])
    origin_cube = Cube.from_rows(
        ["origin"],
        [(str(o or ""), n) for flag, o, n in migrant_rows if str(flag) == "1"],
    )
    province_names = _division_names([f"{o}0000" for o in origin_cube.values[0] if o])
    migrants = _one_way_table(
        target.shown(origin_cube),
        "origin",
        key="mobility-migrants",
        title=_("Children of migrant workers by province of origin"),
        definition=definitions.migrants_by_origin(),
        corner=_("Province of household registration"),
        label=lambda o: province_names.get(f"{o}0000", str(o)) if o else _("Not recorded"),
    )
    return MobilityReport(
        target=target,
        start=start,
        end=end,
        level=level,
        matrix=matrix,
        net=net_table,
        migrants=migrants,
        links=links,
        on=end,
    )


def _unit_inside(target: Target, level: str, code: str) -> bool:
    if target.level == "nation":
        return True
    if target.division is not None:
        digits = {"province": 2, "city": 4, "county": 6}
        shared = min(digits[level], digits[target.level])
        return (
            digits[level] >= digits[target.level] and code[:shared] == target.division.code[:shared]
        )
    if target.school is not None:
        return code == getattr(target.school, f"{level}_id")
    return False


def _division_names(codes_: Iterable[str]) -> dict[str, str]:
    wanted = [c for c in codes_ if c]
    return dict(Division.objects.filter(code__in=wanted).values_list("code", "name"))


# ---- one table, for exports --------------------------------------------------------------------


def report_tables(report: Any) -> list[Table]:
    """Every table of a report, in page order."""
    if isinstance(report, AgeReport):
        return [report.table]
    if isinstance(report, BreakdownReport):
        return list(report.tables)
    if isinstance(report, Dashboard):
        return [t for t in (report.units, report.grades, report.kinds) if t is not None]
    if isinstance(report, AnnualReport):
        return [*report.by_kind, report.flows, report.cohorts]
    if isinstance(report, MobilityReport):
        return [report.matrix, report.net, report.migrants]
    raise TypeError(report)


def stats_table(user: Any, page: str, key: str, **params: Any) -> tuple[Any, Table]:
    """One table of one page's report, by its key, with the report (what the table covers, for
    CSV and XLSX exports)."""
    builders: dict[str, Callable[..., Any]] = {
        "grade-age-sex": age_report,
        "breakdown": breakdown_report,
        "dashboard": dashboard_report,
        "annual": annual_report,
        "mobility": mobility_report,
    }
    builder = builders.get(page)
    if builder is None:
        raise NotFound("not_found", _("There is no such table."))
    report = builder(user, **params)
    for table in report_tables(report):
        if table.key == key:
            return report, table
    raise NotFound("not_found", _("There is no such table."))


__all__ = [
    "AgeReport",
    "AnnualReport",
    "BreakdownReport",
    "Dashboard",
    "MobilityReport",
    "Target",
    "age_report",
    "annual_report",
    "breakdown_report",
    "dashboard_report",
    "mobility_report",
    "stats_table",
    "stats_target",
]
