"""The registry of schools (学校登记): a bureau registers a school, edits it, closes it, or merges
it as a whole into another (整体并入). Every write checks the caller's grant and area, runs in
one transaction with its audit entry, and reports every bad field at once.

Who: the bureau approver of the school's county or of an area holding it (and the system
administrator) registers, edits and closes (Action.SCHOOL_MANAGE); a merge moves children, which
the county approves (Action.SCHOOL_MERGE, county approvers only, both schools of their county).

A school's code (学校标识码) and county are fixed at registration. A county-level division is a
county or a city without counties (东莞, 中山, 儋州, 嘉峪关), which is then the school's city too.
A teaching point (教学点) names its central school (中心校): an open school of the same county,
not itself a teaching point, that teaches every grade the teaching point teaches, so that the
teaching point can always be merged into it.

A merge moves every open placement of the school to the other at once (reason `school_merge`,
same grade, each class into the class of the same year, grade and name at the other school,
made when absent), through the record's own set-based writer (registered by xueji.students with
xueji.schools.pupils); the school closes, merged into the other, and its teaching points pass to
the other. The bureau confirms the number of pupils it was shown: if it changed meanwhile the
merge is refused, to be confirmed again.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from xueji.access.policy import Action
from xueji.access.scope import division_in_area, may, school_in_area, scope_of, today
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.geo.models import Division, DivisionLevel
from xueji.schools.models import (
    DEFAULT_GRADES,
    MAX_GRADE,
    MIN_GRADE,
    Ownership,
    School,
    SchoolClass,
    SchoolKind,
    UrbanRural,
    grade_label,
)
from xueji.schools.pupils import closure_obstacles, pupils_on_roll

NAME_MAX = 128
ADDRESS_MAX = 200
# What an edit may change: everything but the code and the county.
EDITABLE = (
    "name",
    "kind",
    "first_grade",
    "last_grade",
    "address",
    "ownership",
    "urban_rural",
    "boarding",
    "central_school_code",
)


@dataclass
class SchoolDetails:
    """What a bureau states of a school besides its code and county."""

    name: str
    kind: str
    address: str
    urban_rural: str
    ownership: str = Ownership.PUBLIC
    boarding: bool = False
    first_grade: int | None = None  # None: the first grade of the kind
    last_grade: int | None = None
    central_school_code: str = ""  # a teaching point's: the 10-digit code of its central school


def _error(message: Any, error_code: str, /, **params: Any) -> ValidationError:
    return ValidationError(message, code=error_code, params=params or None)


def _no_county() -> NotFound:
    return NotFound("county_not_found", _("No such county in your area."))


def _no_school() -> NotFound:
    return NotFound("school_not_found", _("No such school."))


def county_for_schools(code: str) -> Division | None:
    """The county-level division a school may belong to, with its parent."""
    return Division.objects.select_related("parent").filter(code=code, county_level=True).first()


def _grades_of(details: SchoolDetails) -> tuple[int, int]:
    default_first, default_last = DEFAULT_GRADES.get(details.kind, (1, 6))
    first = default_first if details.first_grade is None else details.first_grade
    last = default_last if details.last_grade is None else details.last_grade
    return first, last


def _detail_errors(
    details: SchoolDetails, county_code: str, school: School | None = None
) -> dict[str, list[ValidationError]]:
    """Every problem of the stated details, by field (empty when there is none)."""
    errors: dict[str, list[ValidationError]] = {}

    def add(field: str, error: ValidationError) -> None:
        errors.setdefault(field, []).append(error)

    name = details.name.strip()
    if not name:
        add("name", _error(_("Give the school's name."), "required"))
    elif len(name) > NAME_MAX:
        add("name", _error(_("At most %(max)d characters."), "too_long", max=NAME_MAX))
    if not details.address.strip():
        add("address", _error(_("Give the school's address."), "required"))
    elif len(details.address.strip()) > ADDRESS_MAX:
        add("address", _error(_("At most %(max)d characters."), "too_long", max=ADDRESS_MAX))
    if details.ownership not in Ownership.values:
        add("ownership", _error(_("Choose public (公办) or private (民办)."), "invalid_choice"))
    if not details.urban_rural:
        add(
            "urban_rural",
            _error(_("Give the urban–rural classification code (城乡分类代码)."), "required"),
        )
    elif details.urban_rural not in UrbanRural.values:
        add(
            "urban_rural",
            _error(
                _("%(value)s is not an urban–rural classification code (111 … 220)."),
                "invalid_choice",
                value=details.urban_rural,
            ),
        )
    if details.kind not in SchoolKind.values:
        add("kind", _error(_("Choose the kind of school."), "invalid_choice"))
        return errors
    first, last = _grades_of(details)
    low, high = DEFAULT_GRADES[details.kind]
    kind_label = SchoolKind(details.kind).label
    if not (MIN_GRADE <= first <= MAX_GRADE) or not (low <= first <= high):
        add(
            "first_grade",
            _error(
                _("A %(kind)s teaches grades from %(low)s to %(high)s."),
                "grade_outside_kind",
                kind=kind_label,
                low=grade_label(low),
                high=grade_label(high),
            ),
        )
    if not (MIN_GRADE <= last <= MAX_GRADE) or not (low <= last <= high):
        add(
            "last_grade",
            _error(
                _("A %(kind)s teaches grades from %(low)s to %(high)s."),
                "grade_outside_kind",
                kind=kind_label,
                low=grade_label(low),
                high=grade_label(high),
            ),
        )
    elif first > last:
        add(
            "last_grade",
            _error(_("The last grade comes before the first."), "grades_reversed"),
        )
    central_code = (details.central_school_code or "").strip()
    if details.kind != SchoolKind.TEACHING_POINT:
        if central_code:
            add(
                "central_school_code",
                _error(_("Only a teaching point (教学点) has a central school."), "not_a_point"),
            )
        return errors
    if not central_code:
        add(
            "central_school_code",
            _error(_("A teaching point (教学点) names its central school (中心校)."), "required"),
        )
        return errors
    central = School.objects.filter(code=central_code).first()
    if (
        central is None
        or central.county_id != county_code
        or (school is not None and central.pk == school.pk)
    ):
        add(
            "central_school_code",
            _error(
                _("The central school must be another school of the same county."),
                "central_not_in_county",
            ),
        )
    elif not central.is_open:
        add("central_school_code", _error(_("That school is closed."), "central_closed"))
    elif central.kind == SchoolKind.TEACHING_POINT:
        add(
            "central_school_code",
            _error(_("A teaching point cannot be a central school."), "central_is_point"),
        )
    elif not (central.first_grade <= first and last <= central.last_grade):
        add(
            "central_school_code",
            _error(
                _(
                    "The central school teaches %(low)s to %(high)s: it must teach every grade "
                    "of the teaching point, which will be merged into it."
                ),
                "central_grades",
                low=grade_label(central.first_grade),
                high=grade_label(central.last_grade),
            ),
        )
    return errors


def _central(details: SchoolDetails) -> School | None:
    """The central school the (checked) details name, or None."""
    code = (details.central_school_code or "").strip()
    if details.kind != SchoolKind.TEACHING_POINT or not code:
        return None
    return School.objects.get(code=code)


def _snapshot(school: School) -> dict[str, Any]:
    return {
        "name": school.name,
        "kind": school.kind,
        "first_grade": school.first_grade,
        "last_grade": school.last_grade,
        "address": school.address,
        "ownership": school.ownership,
        "urban_rural": school.urban_rural,
        "boarding": school.boarding,
        "central_school_code": school.central_school.code if school.central_school else "",
    }


def school_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    county_code: str,
    address: str = "",
    urban_rural: str = "",
    ownership: str = Ownership.PUBLIC,
    boarding: bool = False,
    first_grade: int | None = None,
    last_grade: int | None = None,
    central_school_code: str = "",
) -> School:
    """Register a school under its 10-digit code in a county-level division of the caller's
    area (a county outside it, or none, is a 404)."""
    scope = scope_of(actor)
    county = county_for_schools(county_code or "")
    if (
        county is None
        or not may(scope, Action.SCHOOL_MANAGE)
        or not division_in_area(scope, county.code)
    ):
        raise _no_county()
    details = SchoolDetails(
        name=name,
        kind=kind,
        address=address,
        urban_rural=urban_rural,
        ownership=ownership,
        boarding=boarding,
        first_grade=first_grade,
        last_grade=last_grade,
        central_school_code=central_school_code,
    )
    errors = _detail_errors(details, county.code)
    code = (code or "").strip()
    if not (len(code) == 10 and code.isascii() and code.isdigit()):
        errors.setdefault("code", []).append(
            _error(_("A school code (学校标识码) has exactly 10 digits."), "school_code_format")
        )
    elif School.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(
            _error(_("School code %(code)s is already in use."), "school_code_taken", code=code)
        )
    if errors:
        raise FieldErrors(errors)
    # A city without counties is its own county and its schools' city.
    city = county if county.level == DivisionLevel.CITY else county.parent
    assert city is not None and city.parent_id is not None
    first, last = _grades_of(details)
    school = School(
        code=code,
        name=details.name.strip(),
        kind=kind,
        county=county,
        city=city,
        province_id=city.parent_id,
        first_grade=first,
        last_grade=last,
        address=details.address.strip(),
        ownership=ownership,
        urban_rural=urban_rural,
        boarding=boarding,
        central_school=_central(details),
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                school.save(force_insert=True)
        except IntegrityError:
            raise Conflict(
                "school_code_taken", _("School code %(code)s is already in use.") % {"code": code}
            ) from None
        audit_record(
            actor=actor,
            action="school.create",
            object_type="school",
            detail={"code": code, "county": county.code},
            after=_snapshot(school),
        )
    return school


def _school_locked(actor: Any, school_id: int, action: str) -> School:
    """The school, locked until the transaction ends, if the caller may act on it."""
    scope = scope_of(actor)
    school = School.objects.select_for_update().filter(pk=school_id).first()
    if school is None or not may(scope, action) or not school_in_area(scope, school):
        raise _no_school()
    return school


def _refuse_closed(school: School) -> None:
    if not school.is_open:
        raise Conflict(
            "school_closed",
            _("%(name)s was closed on %(day)s.") % {"name": school.name, "day": school.closed_on},
        )


def school_update(*, actor: Any, school_id: int, **changes: Any) -> School:
    """Change what a bureau states of an open school (EDITABLE: not its code nor its county).
    Grades that children sit in cannot be dropped."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise TypeError(f"not editable: {', '.join(unknown)}")
    with transaction.atomic():
        school = _school_locked(actor, school_id, Action.SCHOOL_MANAGE)
        _refuse_closed(school)
        before = _snapshot(school)
        stated = {**before, **changes}
        if stated["kind"] != SchoolKind.TEACHING_POINT and "central_school_code" not in changes:
            # No longer a teaching point: no longer managed by a central school.
            stated["central_school_code"] = ""
        details = SchoolDetails(**stated)
        errors = _detail_errors(details, school.county_id, school)
        first, last = _grades_of(details)
        if "first_grade" not in errors and "last_grade" not in errors:
            held = sorted(g for g in pupils_on_roll().grades(school.pk) if not first <= g <= last)
            if held:
                errors.setdefault("last_grade" if held[0] > last else "first_grade", []).append(
                    _error(
                        _("Children sit in %(grades)s: the school keeps teaching it."),
                        "grade_held",
                        grades=", ".join(str(grade_label(g)) for g in held),
                    )
                )
        points = list(school.teaching_points.filter(closed_on__isnull=True))
        if points and details.kind == SchoolKind.TEACHING_POINT:
            errors.setdefault("kind", []).append(
                _error(
                    _("It is the central school of teaching points: it cannot become one."),
                    "central_is_point",
                )
            )
        elif any(not (first <= p.first_grade and p.last_grade <= last) for p in points):
            errors.setdefault("last_grade", []).append(
                _error(
                    _(
                        "Its teaching points teach grades it would no longer teach, and they "
                        "may be merged into it."
                    ),
                    "central_grades",
                )
            )
        if errors:
            raise FieldErrors(errors)
        school.name = details.name.strip()
        school.kind = details.kind
        school.first_grade, school.last_grade = first, last
        school.address = details.address.strip()
        school.ownership = details.ownership
        school.urban_rural = details.urban_rural
        school.boarding = details.boarding
        school.central_school = _central(details)
        after = _snapshot(school)
        changed = [key for key in after if after[key] != before[key]]
        if changed:
            school.save(update_fields=[*EDITABLE[:-1], "central_school"])
            audit_record(
                actor=actor,
                action="school.update",
                object_type="school",
                detail={"code": school.code},
                before={key: before[key] for key in changed},
                after={key: after[key] for key in changed},
            )
    return school


def _pupils_refusal(count: int) -> Conflict:
    return Conflict(
        "school_has_pupils",
        ngettext(
            "%(count)d child is still on the school's roll: transfer them, or merge the school "
            "into another, before closing it.",
            "%(count)d children are still on the school's roll: transfer them, or merge the "
            "school into another, before closing it.",
            count,
        )
        % {"count": count},
        pupils=count,
    )


def _points_refusal(school: School, into: School | None = None) -> Conflict | None:
    points = list(school.teaching_points.filter(closed_on__isnull=True).order_by("code"))
    if not points:
        return None
    if into is not None and into.kind != SchoolKind.TEACHING_POINT:
        outside = [
            p
            for p in points
            if not (into.first_grade <= p.first_grade and p.last_grade <= into.last_grade)
        ]
        if not outside:
            return None
        points = outside
    return Conflict(
        "school_manages_points",
        _(
            "It is the central school of %(points)s: give them another central school, or "
            "merge them, first."
        )
        % {"points": "、".join(p.name for p in points)},
    )


def school_close(*, actor: Any, school_id: int, on: datetime.date | None = None) -> School:
    """Close a school no child sits in any more (or refuse, saying how many do): it keeps its
    code, classes and history, and takes no one new."""
    with transaction.atomic():
        school = _school_locked(actor, school_id, Action.SCHOOL_MANAGE)
        _refuse_closed(school)
        pupils = pupils_on_roll().count(school.pk)
        if pupils:
            raise _pupils_refusal(pupils)
        refusal = _points_refusal(school)
        if refusal is not None:
            raise refusal
        obstacles = closure_obstacles(school.pk)
        if obstacles:
            raise Conflict("school_business_open", " ".join(obstacles))
        school.closed_on = on or today()
        school.save(update_fields=["closed_on"])
        audit_record(
            actor=actor,
            action="school.close",
            object_type="school",
            detail={"code": school.code, "closed_on": school.closed_on.isoformat()},
        )
    return school


@dataclass(frozen=True)
class MergePlan:
    """What a merge would do, shown to the bureau before it confirms."""

    school: School
    into: School
    pupils: int
    grades_missing: list[int]
    obstacles: list[str]

    @property
    def possible(self) -> bool:
        return not self.grades_missing and not self.obstacles


def merge_targets(actor: Any, school: School) -> list[School]:
    """The schools `school` may merge into: the other open schools of its county."""
    scope = scope_of(actor)
    if not may(scope, Action.SCHOOL_MERGE) or not school_in_area(scope, school):
        return []
    return list(
        School.objects.filter(county_id=school.county_id, closed_on__isnull=True)
        .exclude(pk=school.pk)
        .order_by("code")
    )


def _merge_pair(actor: Any, school: School | None, into: School | None) -> tuple[School, School]:
    scope = scope_of(actor)
    if school is None or not may(scope, Action.SCHOOL_MERGE) or not school_in_area(scope, school):
        raise _no_school()
    if into is None or not school_in_area(scope, into) or into.county_id != school.county_id:
        raise FieldErrors(
            {
                "into_school": [
                    _error(
                        _("Choose another open school of the same county."), "into_not_in_county"
                    )
                ]
            }
        )
    if into.pk == school.pk:
        raise FieldErrors(
            {"into_school": [_error(_("A school cannot merge into itself."), "into_itself")]}
        )
    return school, into


def _plan(school: School, into: School) -> MergePlan:
    pupils = pupils_on_roll()
    obstacles = closure_obstacles(school.pk) + closure_obstacles(into.pk)
    for each in (school, into):
        if not each.is_open:
            obstacles.insert(
                0,
                str(
                    _("%(name)s was closed on %(day)s.")
                    % {"name": each.name, "day": each.closed_on}
                ),
            )
    refusal = _points_refusal(school, into)
    if refusal is not None:
        obstacles.append(str(refusal.message))
    return MergePlan(
        school=school,
        into=into,
        pupils=pupils.count(school.pk),
        grades_missing=sorted(g for g in pupils.grades(school.pk) if g not in into.grades),
        obstacles=obstacles,
    )


def school_merge_plan(actor: Any, *, school_id: int, into_school_id: int | None) -> MergePlan:
    """What merging the school into the other would move, and what stands in the way (read
    only: the confirmation page and the API's preview)."""
    school = School.objects.filter(pk=school_id).first()
    into = School.objects.filter(pk=into_school_id).first() if into_school_id else None
    school, into = _merge_pair(actor, school, into)
    return _plan(school, into)


def _target_class(
    source: SchoolClass, into: School, taken: set[tuple[int, int, int]]
) -> tuple[SchoolClass, bool]:
    """The class of the same year, grade and name at `into`, made when absent (numbered as the
    source if that number is free in the grade, else the next free one)."""
    found = SchoolClass.objects.filter(
        school=into, academic_year_id=source.academic_year_id, grade=source.grade, name=source.name
    ).first()
    if found is not None:
        return found, False
    number = source.number
    while (source.academic_year_id, source.grade, number) in taken:
        number += 1
    taken.add((source.academic_year_id, source.grade, number))
    made = SchoolClass.objects.create(
        school=into,
        academic_year_id=source.academic_year_id,
        grade=source.grade,
        number=number,
        name=source.name,
    )
    return made, True


def school_merge(
    *,
    actor: Any,
    school_id: int,
    into_school_id: int,
    pupils_confirmed: int,
    on: datetime.date | None = None,
) -> MergePlan:
    """Merge a school as a whole into another of its county (整体并入): every child on its roll
    moves at once to the same grade at the other school (reason `school_merge`), its classes
    follow by name, its teaching points pass to the other, and it closes, merged. The county
    confirms the number of children it was shown (`pupils_confirmed`); a different number now
    is refused, to be confirmed again."""
    on = on or today()
    with transaction.atomic():
        # Both rows locked, in key order: two merges crossing each other wait, not deadlock.
        first, second = sorted([school_id, into_school_id])
        locked = {
            s.pk: s
            for s in School.objects.select_for_update()
            .filter(pk__in=[first, second])
            .order_by("pk")
        }
        school, into = _merge_pair(actor, locked.get(school_id), locked.get(into_school_id))
        plan = _plan(school, into)
        if plan.obstacles:
            raise Conflict("merge_refused", " ".join(plan.obstacles))
        if plan.grades_missing:
            raise FieldErrors(
                {
                    "into_school": [
                        _error(
                            _(
                                "%(name)s does not teach %(grades)s, where children of %(from)s "
                                "sit."
                            ),
                            "grades_not_taught",
                            name=into.name,
                            grades=", ".join(str(grade_label(g)) for g in plan.grades_missing),
                            **{"from": school.name},
                        )
                    ]
                }
            )
        if plan.pupils != pupils_confirmed:
            raise Conflict(
                "pupil_count_changed",
                _(
                    "%(name)s now has %(count)d children on its roll, not %(confirmed)d: look "
                    "at the merge again and confirm it."
                )
                % {"name": school.name, "count": plan.pupils, "confirmed": pupils_confirmed},
                pupils=plan.pupils,
            )
        pupils = pupils_on_roll()
        taken = set(
            SchoolClass.objects.filter(school=into).values_list(
                "academic_year_id", "grade", "number"
            )
        )
        class_map: dict[int, int] = {}
        made = 0
        for source in SchoolClass.objects.filter(pk__in=pupils.classes(school.pk)).order_by("pk"):
            target, created = _target_class(source, into, taken)
            class_map[source.pk] = target.pk
            made += created
        detail = {"from": school.code, "into": into.code}
        moved = pupils.move(
            actor=actor,
            from_school_id=school.pk,
            to_school_id=into.pk,
            class_map=class_map,
            on=on,
            detail=detail,
        )
        points = list(
            school.teaching_points.filter(closed_on__isnull=True).values_list("code", flat=True)
        )
        school.teaching_points.filter(closed_on__isnull=True).update(central_school=into)
        school.closed_on = on
        school.merged_into = into
        school.save(update_fields=["closed_on", "merged_into"])
        audit_record(
            actor=actor,
            action="school.merge",
            object_type="school",
            detail={
                **detail,
                "on": on.isoformat(),
                "pupils": moved,
                "classes_made": made,
                "teaching_points": points,
            },
        )
    return MergePlan(school=school, into=into, pupils=moved, grades_missing=[], obstacles=[])
