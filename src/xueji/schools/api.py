"""API of schools and their classes (班级). A school's students on roll and a class's roster are
the record's: xueji.students.school_api serves them under the same paths."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import COMMON_ERRORS, caller
from xueji.schools.models import grade_label
from xueji.schools.selectors import school_list

schools_router = Router(tags=["schools"])

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
