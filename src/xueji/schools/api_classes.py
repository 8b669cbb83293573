"""API of a school year's set-up by the school's registrar (as /classes/setup/): the year's classes
with their class teachers, a class opened, its class teacher named or cleared, a class opened by
mistake removed, and last year's classes copied one grade up after reading the plan. Every write
is a service of xueji.schools.classes (one transaction, its audit entry, a bad field named)."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused
from xueji.core.api import COMMON_ERRORS, DatabaseId, ErrorOut, NotBoolean, Year, caller
from xueji.core.names import person_name
from xueji.schools.classes import (
    MAX_CLASS_NUMBER,
    CopyPlan,
    class_open,
    class_remove,
    class_teacher_set,
    classes_copy_plan,
    classes_copy_up,
    year_setup,
)
from xueji.schools.models import (
    MAX_GRADE,
    MIN_GRADE,
    SchoolClass,
    academic_start_year,
    grade_label,
)

router = Router(tags=["classes"])

ERRORS: dict[int, Any] = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}

Grade = Annotated[int, Field(ge=MIN_GRADE, le=MAX_GRADE), NotBoolean]
ClassNumber = Annotated[int, Field(ge=1, le=MAX_CLASS_NUMBER), NotBoolean]


class TeacherOut(Schema):
    id: int
    name: str


class SetupClassOut(Schema):
    id: int
    year: int
    grade: int
    grade_label: str
    number: int
    name: str
    class_teacher: TeacherOut | None


class YearSetupOut(Schema):
    school_id: int
    school_code: str
    year: int = Field(description="The school year's first year (2026: 2026-2027)")
    years: list[int] = Field(description="The years you may set up: the one before, this, next")
    classes: list[SetupClassOut]
    class_teachers: list[TeacherOut] = Field(description="The school's class teachers")
    copyable: int = Field(description="Last year's classes the copy one grade up would make")


class PlannedOut(Schema):
    from_class_id: int
    grade: int
    number: int
    name: str
    class_teacher: TeacherOut | None


class SkippedOut(Schema):
    from_class_id: int
    grade: int
    number: int
    name: str


class CopyPlanOut(Schema):
    from_year: int
    to_year: int
    keep_class_teachers: bool
    make: list[PlannedOut]
    leaving: list[SkippedOut] = Field(description="Of the school's last grade: they leave")
    existing: list[SkippedOut] = Field(description="Their class one grade up is open already")
    teachers_gone: list[SkippedOut] = Field(
        description="Copied without their class teacher, no longer one of the school's"
    )


class CopiedOut(Schema):
    made: list[SetupClassOut]


class ClassOpenIn(Schema):
    year: Year
    grade: Grade
    number: ClassNumber
    name: str = Field("", max_length=32, description="Default: 1班, 2班 …")
    class_teacher_id: DatabaseId | None = None


class ClassTeacherIn(Schema):
    class_teacher_id: DatabaseId | None = Field(description="None: no class teacher")


class SetupParams(Schema):
    year: Year | None = Field(None, description="Default: this school year")


class CopyParams(Schema):
    year: Year | None = Field(None, description="The year to make the classes in (default: this)")
    keep_class_teachers: bool = False


class CopyIn(Schema):
    year: Year = Field(description="The school year to make the classes in")
    keep_class_teachers: bool = False
    confirmed: Annotated[int, Field(ge=1, le=10_000), NotBoolean] = Field(
        description="The number of classes the plan you read makes (409 `plan_changed` if not)"
    )


def _teacher(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": person_name(user)}


def _class(school_class: SchoolClass) -> dict[str, Any]:
    return {
        "id": school_class.pk,
        "year": school_class.academic_year.start_year,
        "grade": school_class.grade,
        "grade_label": grade_label(school_class.grade),
        "number": school_class.number,
        "name": school_class.name,
        "class_teacher": _teacher(school_class.class_teacher),
    }


def _fresh(class_id: int) -> dict[str, Any]:
    return _class(
        SchoolClass.objects.select_related("academic_year", "class_teacher").get(pk=class_id)
    )


def _skipped(school_class: SchoolClass) -> dict[str, Any]:
    return {
        "from_class_id": school_class.pk,
        "grade": school_class.grade,
        "number": school_class.number,
        "name": school_class.name,
    }


def _plan(plan: CopyPlan) -> dict[str, Any]:
    return {
        "from_year": plan.from_year,
        "to_year": plan.to_year,
        "keep_class_teachers": plan.keep_class_teachers,
        "make": [
            {
                "from_class_id": planned.source.pk,
                "grade": planned.grade,
                "number": planned.number,
                "name": planned.name,
                "class_teacher": _teacher(planned.class_teacher),
            }
            for planned in plan.make
        ],
        "leaving": [_skipped(c) for c in plan.leaving],
        "existing": [_skipped(c) for c in plan.existing],
        "teachers_gone": [_skipped(c) for c in plan.teachers_gone],
    }


@router.get("/setup", response={200: YearSetupOut, **ERRORS}, summary="A school year's classes")
@endpoint_requires(Action.CLASS_MANAGE)
def setup_get(request: HttpRequest, params: Query[SetupParams]) -> dict[str, Any]:
    """Your school's classes of a school year with their class teachers (a year out of reach
    gives this one), the school's class teachers, and how many classes the copy would make."""
    setup = year_setup(caller(request), params.year)
    if setup is None:
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    return {
        "school_id": setup.school.pk,
        "school_code": setup.school.code,
        "year": setup.year,
        "years": setup.years,
        "classes": [_class(c) for c in setup.classes],
        "class_teachers": [_teacher(t) for t in setup.class_teachers],
        "copyable": setup.copyable,
    }


@router.post("/setup", response={201: SetupClassOut, **ERRORS}, summary="Open a class")
@endpoint_requires(Action.CLASS_MANAGE)
def class_add(request: HttpRequest, body: ClassOpenIn) -> Status[dict[str, Any]]:
    """Open a class of a grade your school teaches, for this school year, the one before or
    the next (400 `year_out_of_reach`), with its class teacher (one of the school's)."""
    made = class_open(
        actor=caller(request),
        start_year=body.year,
        grade=body.grade,
        number=body.number,
        name=body.name,
        class_teacher_id=body.class_teacher_id,
    )
    return Status(201, _fresh(made.pk))


@router.post(
    "/setup/{int:class_id}/class-teacher",
    response={200: SetupClassOut, **ERRORS},
    summary="Name a class's class teacher",
)
@endpoint_requires(Action.CLASS_MANAGE)
def class_teacher_name(request: HttpRequest, class_id: DatabaseId, body: ClassTeacherIn) -> Any:
    """A class teacher of your school for a class of your school, or none."""
    class_teacher_set(
        actor=caller(request), class_id=class_id, class_teacher_id=body.class_teacher_id
    )
    return _fresh(class_id)


class RemovedOut(Schema):
    removed: int


@router.post(
    "/setup/{int:class_id}/remove",
    response={200: RemovedOut, **ERRORS},
    summary="Remove a class opened by mistake",
)
@endpoint_requires(Action.CLASS_MANAGE)
def class_delete(request: HttpRequest, class_id: DatabaseId) -> dict[str, Any]:
    """Only while nothing refers to it (409 `class_in_use`: a child was placed in it, a
    teacher assigned, a request filed)."""
    class_remove(actor=caller(request), class_id=class_id)
    return {"removed": class_id}


@router.get(
    "/setup/copy",
    response={200: CopyPlanOut, **ERRORS},
    summary="What copying last year's classes one grade up would make",
)
@endpoint_requires(Action.CLASS_MANAGE)
def copy_plan(request: HttpRequest, params: Query[CopyParams]) -> dict[str, Any]:
    """Each class of the year before, one grade up, with its name and number (and its class
    teacher if kept and still one of the school's); the last grade and classes already open
    are skipped."""
    return _plan(
        classes_copy_plan(
            actor=caller(request),
            to_year=params.year or academic_start_year(timezone.localdate()),
            keep_class_teachers=params.keep_class_teachers,
        )
    )


@router.post(
    "/setup/copy",
    response={201: CopiedOut, **ERRORS},
    summary="Copy last year's classes one grade up",
)
@endpoint_requires(Action.CLASS_MANAGE)
def copy_up(request: HttpRequest, body: CopyIn) -> Status[dict[str, Any]]:
    """Make the planned classes at once (one audit entry); `confirmed` is the number of classes
    of the plan you read: 409 `plan_changed` when it changed since, `nothing_to_copy`."""
    made = classes_copy_up(
        actor=caller(request),
        to_year=body.year,
        keep_class_teachers=body.keep_class_teachers,
        confirmed=body.confirmed,
    )
    return Status(201, {"made": [_fresh(c.pk) for c in made]})
