"""Per-student funding (生均公用经费) that follows the child.

A school's allocation for a term is the count of its enrolled pupils on the term's census date,
by stage, times the rates in force that day (national benchmark + provincial top-up, the
boarding extra per boarding pupil, the special-education extra per pupil of a special school),
for half a year. The count is read from the placement history ("where was each child on date
D": start_date <= D < end_date), in one grouped query, so any past census is reproducible.

Portability: children counted in one county at a term's census and in another at the next,
having transferred in between, carry the receiving area's amount for the term.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, Q, Value, When
from django.utils.translation import gettext as _

from xueji.access.models import ScopeLevel
from xueji.access.scope import Scope, area_q
from xueji.audit.services import audit_record
from xueji.core.codes import AttendanceMode
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolKind, Term
from xueji.students.models import Placement, PlacementReason
from xueji.welfare.models import CensusDate, FundingRate, RateComponent, Stage
from xueji.welfare.validation import field_error

STAGE_OF_GRADE: tuple[tuple[int, int, str], ...] = (
    (1, 6, Stage.PRIMARY),
    (7, 9, Stage.JUNIOR),
    (10, 12, Stage.SENIOR),
)


def stage_of(grade: int) -> str | None:
    for low, high, stage in STAGE_OF_GRADE:
        if low <= grade <= high:
            return stage
    return None


def stage_case(grade_field: str = "grade") -> Case:
    return Case(
        *[
            When(**{f"{grade_field}__gte": low, f"{grade_field}__lte": high}, then=Value(stage))
            for low, high, stage in STAGE_OF_GRADE
        ],
        default=Value(""),
    )


def placed_on(on: datetime.date, prefix: str = "") -> Q:
    """Placements open on `on` (the day a placement ends belongs to the next one)."""
    return Q(**{f"{prefix}start_date__lte": on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gt": on})
    )


# ---- census dates ----------------------------------------------------------------------------


def default_census_date(term: Term) -> datetime.date:
    """30 September for the autumn term, 31 March for the spring term."""
    start = term.academic_year.start_year
    return datetime.date(start, 9, 30) if term.number == 1 else datetime.date(start + 1, 3, 31)


def census_date_of(term: Term) -> datetime.date:
    found = CensusDate.objects.filter(term=term).values_list("census_on", flat=True).first()
    return found or default_census_date(term)


def census_date_set(*, actor: Any, term_id: int, census_on: datetime.date) -> CensusDate:
    term = Term.objects.select_related("academic_year").filter(pk=term_id).first()
    if term is None:
        raise NotFound("term_not_found", _("No such term."))
    if not term.start_date <= census_on <= term.end_date:
        raise FieldErrors(
            {
                "census_on": [
                    field_error("outside_term", _("The census date lies outside the term."))
                ]
            }
        )
    with transaction.atomic():
        before = CensusDate.objects.filter(term=term).values_list("census_on", flat=True).first()
        found, _created = CensusDate.objects.update_or_create(
            term=term, defaults={"census_on": census_on}
        )
        audit_record(
            actor=actor,
            action="welfare.census_date_set",
            object_type="term",
            detail={"term": str(term)},
            before={"census_on": str(before) if before else None},
            after={"census_on": str(census_on)},
        )
    return found


def previous_term(term: Term) -> Term | None:
    return (
        Term.objects.select_related("academic_year")
        .filter(start_date__lt=term.start_date)
        .order_by("-start_date")
        .first()
    )


# ---- rates -----------------------------------------------------------------------------------


def _rate_scope_check(scope: Scope, province_code: str | None) -> None:
    if scope.level == ScopeLevel.NATION:
        return
    if scope.level == ScopeLevel.PROVINCE and province_code == scope.division_code:
        return
    raise NotFound("province_not_found", _("No such province in your area."))


def rate_set(
    *,
    actor: Any,
    scope: Scope,
    province_code: str | None,
    stage: str,
    component: str,
    yearly_fen: int,
    valid_from: datetime.date,
    note: str = "",
) -> FundingRate:
    """A new dated rate (the history keeps the old ones): the ministry sets the benchmark and
    any national default, a province its own top-up and extras."""
    errors: dict[str, list[Any]] = {}
    if stage not in Stage.values:
        errors["stage"] = [field_error("invalid_choice", _("Choose a stage."))]
    if component not in RateComponent.values:
        errors["component"] = [field_error("invalid_choice", _("Choose a component."))]
    if component == RateComponent.BENCHMARK and province_code:
        errors["component"] = [
            field_error("benchmark_national", _("The benchmark is set by the ministry."))
        ]
    if component == RateComponent.TOPUP and not province_code:
        errors["province_code"] = [
            field_error("topup_provincial", _("A top-up belongs to a province."))
        ]
    if isinstance(yearly_fen, bool) or not isinstance(yearly_fen, int) or yearly_fen < 0:
        errors["yearly_fen"] = [field_error("invalid", _("Give an amount in fen, 0 or more."))]
    elif yearly_fen > 10_000_000:
        errors["yearly_fen"] = [field_error("too_large", _("The amount is implausibly large."))]
    if province_code and not Division.objects.filter(code=province_code, level="province").exists():
        errors["province_code"] = [field_error("not_a_province", _("No such province."))]
    if errors:
        raise FieldErrors(errors)
    _rate_scope_check(scope, province_code)
    with transaction.atomic():
        if FundingRate.objects.filter(
            province_id=province_code or None,
            stage=stage,
            component=component,
            valid_from=valid_from,
        ).exists():
            raise FieldErrors(
                {
                    "valid_from": [
                        field_error(
                            "rate_exists", _("A rate already starts on this day: pick another.")
                        )
                    ]
                }
            )
        rate = FundingRate.objects.create(
            province_id=province_code or None,
            stage=stage,
            component=component,
            yearly_fen=yearly_fen,
            valid_from=valid_from,
            note=note[:200],
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="welfare.rate_set",
            object_type="funding_rate",
            detail={"province": province_code or "", "stage": stage, "component": component},
            after={"yearly_fen": yearly_fen, "valid_from": str(valid_from)},
        )
    return rate


@dataclass(frozen=True)
class Rates:
    """The rates (fen per pupil per year) in force for one province on one day."""

    base: dict[str, int]  # benchmark + top-up, by stage
    boarding: dict[str, int]
    special: dict[str, int]


def rates_on(on: datetime.date, province_codes: set[str]) -> dict[str, Rates]:
    """The rates in force on `on` for each province: the latest row valid from that day or
    before; a province's own boarding or special extra replaces the nation's default."""
    rows = FundingRate.objects.filter(valid_from__lte=on).order_by("valid_from", "pk")
    latest: dict[tuple[str | None, str, str], int] = {}
    for province, stage, component, fen in rows.values_list(
        "province_id", "stage", "component", "yearly_fen"
    ):
        latest[(province, stage, component)] = fen
    found: dict[str, Rates] = {}
    for code in province_codes:
        base: dict[str, int] = {}
        boarding: dict[str, int] = {}
        special: dict[str, int] = {}
        for stage in Stage.values:
            base[stage] = latest.get((None, stage, RateComponent.BENCHMARK), 0) + latest.get(
                (code, stage, RateComponent.TOPUP), 0
            )
            for component, into in (
                (RateComponent.BOARDING, boarding),
                (RateComponent.SPECIAL, special),
            ):
                into[stage] = latest.get(
                    (code, stage, component), latest.get((None, stage, component), 0)
                )
        found[code] = Rates(base, boarding, special)
    return found


def term_amount(yearly_fen: int, pupils: int) -> int:
    """Half a year's money for `pupils` at a yearly rate, in fen (half a fen rounds up)."""
    return (yearly_fen * pupils + 1) // 2


# ---- the census and the allocation -----------------------------------------------------------


def census_rows(on: datetime.date, area: Q | None = None) -> list[dict[str, Any]]:
    """Pupils placed on `on`, by school and stage, with the boarding pupils among them: one
    grouped query over the placement history."""
    placements = Placement.objects.filter(placed_on(on), grade__gte=1)
    if area is not None:
        placements = placements.filter(area)
    grouped = (
        placements.annotate(stage=stage_case())
        .values("school_id", "stage")
        .annotate(
            pupils=Count("id"),
            boarders=Count("id", filter=Q(student__attendance_mode=AttendanceMode.BOARDING)),
        )
        .order_by("school_id", "stage")
    )
    return [dict(row) for row in grouped]


@dataclass
class SchoolAllocation:
    school_id: int
    code: str
    name: str
    county_code: str
    county_name: str
    province_code: str
    pupils: dict[str, int] = field(default_factory=dict)
    boarders: int = 0
    amount_fen: int = 0

    @property
    def total_pupils(self) -> int:
        return sum(self.pupils.values())


@dataclass
class Allocation:
    term: Term
    census_on: datetime.date
    schools: list[SchoolAllocation]

    @property
    def amount_fen(self) -> int:
        return sum(s.amount_fen for s in self.schools)

    @property
    def pupils(self) -> int:
        return sum(s.total_pupils for s in self.schools)

    def by_county(self) -> list[dict[str, Any]]:
        counties: dict[str, dict[str, Any]] = {}
        for school in self.schools:
            entry = counties.setdefault(
                school.county_code,
                {
                    "code": school.county_code,
                    "name": school.county_name,
                    "pupils": 0,
                    "amount_fen": 0,
                },
            )
            entry["pupils"] += school.total_pupils
            entry["amount_fen"] += school.amount_fen
        return sorted(counties.values(), key=lambda c: c["code"])


def allocation(term: Term, scope: Scope | None, *, on: datetime.date | None = None) -> Allocation:
    """Each school's allocation for the term in the scope's area (the nation: None)."""
    census_on = on or census_date_of(term)
    area = None if scope is None else area_q(scope, "school__")
    rows = census_rows(census_on, area)
    school_ids = {row["school_id"] for row in rows}
    schools = {s.pk: s for s in School.objects.filter(pk__in=school_ids).select_related("county")}
    rates = rates_on(census_on, {s.province_id for s in schools.values()})
    result: dict[int, SchoolAllocation] = {}
    for row in rows:
        school = schools[row["school_id"]]
        entry = result.get(school.pk)
        if entry is None:
            entry = result[school.pk] = SchoolAllocation(
                school.pk,
                school.code,
                school.name,
                school.county_id,
                school.county.name,
                school.province_id,
            )
        stage = row["stage"]
        if not stage:
            continue
        rate = rates[school.province_id]
        pupils, boarders = row["pupils"], row["boarders"]
        entry.pupils[stage] = entry.pupils.get(stage, 0) + pupils
        entry.boarders += boarders
        yearly = rate.base[stage] * pupils + rate.boarding[stage] * boarders
        if school.kind == SchoolKind.SPECIAL:
            yearly += rate.special[stage] * pupils
        entry.amount_fen += term_amount(yearly, 1)
    return Allocation(term, census_on, sorted(result.values(), key=lambda s: s.code))


# ---- portability -----------------------------------------------------------------------------


def portability(term: Term, scope: Scope | None) -> dict[str, Any]:
    """Money that moved with the children who transferred between the previous term's census
    and this term's: children placed in one county then and in another now, with a transfer
    placement opened in between, carrying the receiving province's per-term amount."""
    earlier = previous_term(term)
    to_day = census_date_of(term)
    if earlier is None:
        return {"from_day": None, "to_day": to_day, "counties": [], "provinces": []}
    from_day = census_date_of(earlier)
    now = Placement.objects.filter(placed_on(to_day), grade__gte=1).filter(
        student__placements__reason=PlacementReason.TRANSFER,
        student__placements__start_date__gt=from_day,
        student__placements__start_date__lte=to_day,
    )
    then = {
        row["student_id"]: row
        for row in Placement.objects.filter(placed_on(from_day))
        .filter(student_id__in=now.values("student_id"))
        .values("student_id", "school__county_id", "school__province_id")
    }
    moved: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    for row in (
        now.annotate(stage=stage_case())
        .values("student_id", "stage", "school__county_id", "school__province_id")
        .distinct()
    ):
        before = then.get(row["student_id"])
        if before is None or before["school__county_id"] == row["school__county_id"]:
            continue
        moved[
            (
                before["school__county_id"],
                row["school__county_id"],
                before["school__province_id"],
                row["school__province_id"],
                row["stage"],
            )
        ] += 1
    rates = rates_on(to_day, {key[3] for key in moved})
    counties: dict[tuple[str, str], dict[str, Any]] = {}
    provinces: dict[tuple[str, str], dict[str, Any]] = {}
    for (from_county, to_county, from_prov, to_prov, stage), children in moved.items():
        amount = term_amount(rates[to_prov].base.get(stage, 0), children) if stage else 0
        for key, into in (((from_county, to_county), counties), ((from_prov, to_prov), provinces)):
            if key[0] == key[1]:
                continue
            entry = into.setdefault(
                key, {"from": key[0], "to": key[1], "children": 0, "amount_fen": 0}
            )
            entry["children"] += children
            entry["amount_fen"] += amount
    names = dict(
        Division.objects.filter(
            code__in={c for key in counties for c in key} | {p for key in provinces for p in key}
        ).values_list("code", "name")
    )

    def visible(entry: dict[str, Any]) -> bool:
        if scope is None or scope.level == ScopeLevel.NATION:
            return True
        if scope.level == ScopeLevel.SCHOOL:
            return False
        digits = {"province": 2, "city": 4, "county": 6}[scope.level]
        own = (scope.division_code or "")[:digits]
        return entry["from"][:digits] == own or entry["to"][:digits] == own

    def named(entries: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(
            (
                {
                    **e,
                    "from_name": names.get(e["from"], e["from"]),
                    "to_name": names.get(e["to"], e["to"]),
                }
                for e in entries.values()
                if visible(e)
            ),
            key=lambda e: (e["from"], e["to"]),
        )

    return {
        "from_day": from_day,
        "to_day": to_day,
        "counties": named(counties),
        "provinces": named(provinces),
    }
