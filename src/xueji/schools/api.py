"""API of schools and their classes (班级) with class rosters."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import COMMON_ERRORS, ErrorOut, caller
from xueji.core.errors import NotFound
from xueji.schools.models import grade_label
from xueji.schools.selectors import school_list, school_overview
from xueji.students.api import StudentSummaryOut
from xueji.students.selectors import class_with_roster

schools_router = Router(tags=["schools"])
classes_router = Router(tags=["classes"])

SCHOOL_LIMIT_MAX = 500


def _teacher_name(school_class: Any) -> str | None:
    teacher = school_class.class_teacher
    if teacher is None:
        return None
    return str(teacher.get_full_name() or teacher.get_username())


class SchoolParams(Schema):
    division: str | None = Field(None, description="Province, city or county code.")
    kind: str | None = Field(None, description="primary, junior, nine_year, senior, …")
    q: str = Field("", description="Part of the name, or the start of the school code.")
    limit: int = Field(100, ge=1, le=SCHOOL_LIMIT_MAX)
    offset: int = Field(0, ge=0)


class SchoolOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    county_code: str = Field(alias="county_id")
    county_name: str = Field(alias="county.name")
    first_grade: int
    last_grade: int


class ClassOut(Schema):
    id: int
    name: str
    number: int
    grade: int
    grade_label: str
    academic_year: int = Field(alias="academic_year.start_year")
    class_teacher: str | None
    school: SchoolOut

    @staticmethod
    def resolve_grade_label(obj: Any) -> str:
        return grade_label(obj.grade)

    @staticmethod
    def resolve_class_teacher(obj: Any) -> str | None:
        return _teacher_name(obj)


class ClassCountOut(Schema):
    """A class and its students on roll."""

    id: int = Field(alias="school_class.pk")
    name: str = Field(alias="school_class.name")
    number: int = Field(alias="school_class.number")
    class_teacher: str | None
    boys: int
    girls: int
    total: int

    @staticmethod
    def resolve_class_teacher(obj: Any) -> str | None:
        return _teacher_name(obj.school_class)


class GradeOut(Schema):
    grade: int
    label: str
    boys: int
    girls: int
    total: int
    classes: list[ClassCountOut]

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return grade_label(obj.grade)


class SchoolDetailOut(Schema):
    """A school with the grades and classes of the academic year it works in."""

    school: SchoolOut
    academic_year: int | None
    boys: int
    girls: int
    total: int
    grades: list[GradeOut]

    @staticmethod
    def resolve_academic_year(obj: Any) -> int | None:
        return None if obj.academic_year is None else int(obj.academic_year.start_year)


class ClassRosterOut(Schema):
    school_class: ClassOut
    student_count: int
    students: list[StudentSummaryOut]


@schools_router.get("", response={200: list[SchoolOut], **COMMON_ERRORS})
@endpoint_requires(Action.SCHOOL_VIEW)
def list_schools(request: HttpRequest, params: Query[SchoolParams]) -> object:
    """Schools in your scope, by division, kind, name or code."""
    return school_list(
        caller(request),
        division_code=params.division,
        kind=params.kind,
        query=params.q,
        limit=params.limit,
        offset=params.offset,
    )


@schools_router.get(
    "/{int:school_id}", response={200: SchoolDetailOut, 404: ErrorOut, **COMMON_ERRORS}
)
@endpoint_requires(Action.SCHOOL_VIEW)
def get_school(request: HttpRequest, school_id: int) -> object:
    """One school with its grades and classes, and the students on roll in each."""
    overview = school_overview(caller(request), school_id)
    if overview is None:
        raise NotFound("school_not_found", _("No such school."))
    return overview


@classes_router.get(
    "/{int:class_id}", response={200: ClassRosterOut, 404: ErrorOut, **COMMON_ERRORS}
)
@endpoint_requires(Action.ROSTER_VIEW)
def get_class(request: HttpRequest, class_id: int) -> object:
    """One class with its roster: the students placed in it now (numbers masked)."""
    found = class_with_roster(caller(request), class_id)
    if found is None:
        raise NotFound("class_not_found", _("No such class."))
    school_class, students = found
    return {"school_class": school_class, "student_count": len(students), "students": students}
