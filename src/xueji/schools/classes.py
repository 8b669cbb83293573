"""The set-up of a school year by the school's registrar: its classes (开设班级), their class
teachers (班主任), and the copy of last year's classes one grade up (the usual way a new year is
opened: each class moves up with its name and, if the registrar wishes, its class teacher; the
last grade leaves, the first grade's new classes are added by hand).

Every write checks the permission (Action.CLASS_MANAGE, the registrar of the school), runs in one
transaction with its audit entry, and reports a bad field next to it. The copy is set-based: the
plan is shown first (every class that will be made, every one skipped and why), and the copy made
in one INSERT, refused if the plan changed since it was shown.

Subject teachers are assigned to the classes on the teaching page (xueji.scores), which sits
above this app.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import Membership, Role
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, Scope, may_at_school, require
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import AcademicYear, School, SchoolClass, academic_start_year
from xueji.schools.services import academic_year_ensure

# Class numbers a school gives (1班 … 99班).
MAX_CLASS_NUMBER = 99
# The years a registrar sets up: the one before (late corrections), this one and the next.
YEARS_BACK, YEARS_AHEAD = 1, 1


def _field_error(field_name: str, message: Any, code: str, **params: Any) -> FieldErrors:
    return FieldErrors({field_name: [ValidationError(message, code=code, params=params or None)]})


def _registrar_school(actor: Any) -> tuple[Scope, School]:
    """The school whose classes the actor (its registrar) sets up."""
    scope = require(actor, Action.CLASS_MANAGE)
    school = School.objects.filter(pk=scope.school_id or 0).first()
    if school is None or not may_at_school(scope, Action.CLASS_MANAGE, school.pk):
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    return scope, school


def setup_years(on: datetime.date | None = None) -> list[int]:
    """The school years (by their first year) a registrar may set up on a day."""
    current = academic_start_year(on or timezone.localdate())
    return list(range(current - YEARS_BACK, current + YEARS_AHEAD + 1))


def _check_year(start_year: int) -> None:
    if start_year not in setup_years():
        raise _field_error(
            "year",
            _("Classes are set up for this school year, the one before or the next."),
            "year_out_of_reach",
        )


def class_teachers_of(school_id: int) -> list[Any]:
    """The school's class teachers (accounts holding the class teacher's role there)."""
    return [
        membership.user
        for membership in Membership.objects.filter(role=Role.CLASS_TEACHER, school_id=school_id)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    ]


def _class_teacher(school: School, teacher_id: Any) -> int | None:
    """The id of a class teacher of the school, None for none; a field error otherwise."""
    if teacher_id in (None, ""):
        return None
    teacher = (
        Membership.objects.filter(
            user_id=int(str(teacher_id)), role=Role.CLASS_TEACHER, school=school
        )
        .values_list("user_id", flat=True)
        .first()
        if str(teacher_id).isdigit()
        else None
    )
    if teacher is None:
        raise _field_error(
            "class_teacher",
            _("Choose a class teacher of your school."),
            "not_a_class_teacher",
        )
    return int(teacher)


def default_class_name(number: int) -> str:
    return str(_("Class %(number)d") % {"number": number})


def _shown(school_class: SchoolClass) -> dict[str, Any]:
    return {
        "class": school_class.pk,
        "year": school_class.academic_year.start_year,
        "grade": school_class.grade,
        "number": school_class.number,
        "name": school_class.name,
        "class_teacher": school_class.class_teacher_id,
    }


def class_open(
    *,
    actor: Any,
    start_year: int,
    grade: int,
    number: int,
    name: str = "",
    class_teacher_id: Any = None,
) -> SchoolClass:
    """The registrar opens a class of a grade for a school year, with its class teacher."""
    _scope, school = _registrar_school(actor)
    _check_year(start_year)
    problems: dict[str, list[ValidationError]] = {}
    if grade not in school.grades:
        problems["grade"] = [
            ValidationError(_("This school does not teach that grade."), code="grade_not_taught")
        ]
    if not 1 <= number <= MAX_CLASS_NUMBER:
        problems["number"] = [
            ValidationError(
                _("A class number is from 1 to %(max)d."),
                code="number_out_of_range",
                params={"max": MAX_CLASS_NUMBER},
            )
        ]
    try:
        teacher = _class_teacher(school, class_teacher_id)
    except FieldErrors as error:
        problems.update(error.errors)
        teacher = None
    if problems:
        raise FieldErrors(problems)
    name = (name or "").strip()[:32] or default_class_name(number)
    with transaction.atomic():
        year = academic_year_ensure(actor=actor, start_year=start_year)
        try:
            with transaction.atomic():
                school_class = SchoolClass.objects.create(
                    school=school,
                    academic_year=year,
                    grade=grade,
                    number=number,
                    name=name,
                    class_teacher_id=teacher,
                )
        except IntegrityError:
            raise _field_error(
                "number",
                _("This grade already has a class with this number in that year."),
                "class_exists",
            ) from None
        audit_record(
            actor=actor,
            action="class.create",
            object_type="class",
            detail={"school": school.code},
            after=_shown(school_class),
        )
    return school_class


def _own_class(actor: Any, class_id: Any) -> SchoolClass:
    _scope, school = _registrar_school(actor)
    found = (
        SchoolClass.objects.select_for_update()
        .select_related("academic_year")
        .filter(pk=class_id, school=school)
        .first()
    )
    if found is None:
        raise NotFound("class_not_found", _("No such class at your school."))
    return found


def class_teacher_set(*, actor: Any, class_id: Any, class_teacher_id: Any) -> SchoolClass:
    """The registrar names a class's class teacher (or none)."""
    with transaction.atomic():
        school_class = _own_class(actor, class_id)
        teacher = _class_teacher(school_class.school, class_teacher_id)
        if teacher == school_class.class_teacher_id:
            return school_class
        before = _shown(school_class)
        school_class.class_teacher_id = teacher
        school_class.save(update_fields=["class_teacher"])
        audit_record(
            actor=actor,
            action="class.class_teacher",
            object_type="class",
            detail={"school": school_class.school.code},
            before=before,
            after=_shown(school_class),
        )
    return school_class


def class_remove(*, actor: Any, class_id: Any) -> None:
    """The registrar removes a class opened by mistake: only while nothing refers to it (no
    child was ever placed in it, no teacher assigned, no score, no request)."""
    with transaction.atomic():
        school_class = _own_class(actor, class_id)
        before = _shown(school_class)
        try:
            with transaction.atomic():
                school_class.delete()
        except (ProtectedError, IntegrityError):
            raise Conflict(
                "class_in_use",
                _(
                    "This class has (or had) students, teachers or requests: it stays. Leave it "
                    "empty instead."
                ),
            ) from None
        audit_record(
            actor=actor,
            action="class.remove",
            object_type="class",
            detail={"school": school_class.school.code},
            before=before,
        )


# ---- last year's classes one grade up ----------------------------------------------------


@dataclass(frozen=True)
class PlannedClass:
    """A class the copy makes: last year's `source` one grade up."""

    source: SchoolClass
    grade: int
    number: int
    name: str
    class_teacher: Any  # the user kept, or None

    @property
    def key(self) -> tuple[int, int]:
        return (self.grade, self.number)


@dataclass
class CopyPlan:
    school: School
    from_year: int
    to_year: int
    keep_class_teachers: bool
    make: list[PlannedClass] = field(default_factory=list)
    # Last year's classes not copied: of the school's last grade (they graduate) ...
    leaving: list[SchoolClass] = field(default_factory=list)
    # ... or whose class one grade up exists already in the new year.
    existing: list[SchoolClass] = field(default_factory=list)
    # Class teachers not kept: no longer class teachers of the school.
    teachers_gone: list[SchoolClass] = field(default_factory=list)


def classes_copy_plan(*, actor: Any, to_year: int, keep_class_teachers: bool) -> CopyPlan:
    """What copying last year's classes one grade up into `to_year` would make, and skip."""
    _scope, school = _registrar_school(actor)
    _check_year(to_year)
    return _plan(school, to_year, keep_class_teachers)


def _plan(school: School, to_year: int, keep_class_teachers: bool) -> CopyPlan:
    plan = CopyPlan(school, to_year - 1, to_year, keep_class_teachers)
    taken = set(
        SchoolClass.objects.filter(school=school, academic_year__start_year=to_year).values_list(
            "grade", "number"
        )
    )
    teachers = {user.pk for user in class_teachers_of(school.pk)}
    last_year = (
        SchoolClass.objects.filter(school=school, academic_year__start_year=to_year - 1)
        .select_related("class_teacher")
        .order_by("grade", "number")
    )
    for source in last_year:
        if source.grade >= school.last_grade:
            plan.leaving.append(source)
            continue
        if (source.grade + 1, source.number) in taken:
            plan.existing.append(source)
            continue
        teacher = None
        if keep_class_teachers and source.class_teacher_id is not None:
            if source.class_teacher_id in teachers:
                teacher = source.class_teacher
            else:
                plan.teachers_gone.append(source)
        plan.make.append(
            PlannedClass(source, source.grade + 1, source.number, source.name, teacher)
        )
    return plan


def classes_copy_up(
    *, actor: Any, to_year: int, keep_class_teachers: bool, confirmed: int
) -> list[SchoolClass]:
    """Make the planned classes of `to_year` in one INSERT, with one audit entry; `confirmed`
    is the number of classes the registrar was shown: if the plan changed since (a class
    opened meanwhile), nothing is made and the plan is to be looked at again."""
    _scope, school = _registrar_school(actor)
    _check_year(to_year)
    with transaction.atomic():
        # One copy at a time per school: its row serialises two registrars' clicks.
        School.objects.select_for_update().filter(pk=school.pk).first()
        plan = _plan(school, to_year, keep_class_teachers)
        if not plan.make:
            raise Conflict("nothing_to_copy", _("There is no class to make: nothing was copied."))
        if len(plan.make) != confirmed:
            raise Conflict(
                "plan_changed",
                _(
                    "The classes changed since the list was shown (%(shown)d then, %(now)d now): "
                    "look at the list again."
                )
                % {"shown": confirmed, "now": len(plan.make)},
            )
        year: AcademicYear = academic_year_ensure(actor=actor, start_year=to_year)
        made = SchoolClass.objects.bulk_create(
            SchoolClass(
                school=school,
                academic_year=year,
                grade=planned.grade,
                number=planned.number,
                name=planned.name,
                class_teacher=planned.class_teacher,
            )
            for planned in plan.make
        )
        audit_record(
            actor=actor,
            action="class.copy_up",
            object_type="class",
            detail={
                "school": school.code,
                "from_year": plan.from_year,
                "to_year": to_year,
                "made": len(made),
                "leaving": len(plan.leaving),
                "existing": len(plan.existing),
                "class_teachers_kept": sum(1 for p in plan.make if p.class_teacher is not None),
            },
        )
    return made


# ---- reads of the page ----------------------------------------------------------------------


@dataclass
class YearSetup:
    school: School
    year: int
    years: list[int]
    classes: list[SchoolClass]
    class_teachers: list[Any]
    # Last year's classes that would move up (for the offer to copy them).
    copyable: int

    @property
    def grades(self) -> range:
        return self.school.grades


def year_setup(user: Any, start_year: int | None = None) -> YearSetup | None:
    """The registrar's school in a school year (this one by default): its classes with their
    class teachers, the school's class teachers, and how many classes of the year before
    would move up. None for a user who does not set up a school's classes."""
    try:
        _scope, school = _registrar_school(user)
    except PermissionRefused:
        return None
    years = setup_years()
    year = start_year if start_year in years else academic_start_year(timezone.localdate())
    classes = list(
        SchoolClass.objects.filter(school=school, academic_year__start_year=year)
        .select_related("class_teacher", "academic_year")
        .order_by("grade", "number")
    )
    return YearSetup(
        school=school,
        year=year,
        years=years,
        classes=classes,
        class_teachers=class_teachers_of(school.pk),
        copyable=len(_plan(school, year, False).make),
    )
