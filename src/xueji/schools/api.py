"""API of schools and their classes (班级). A school's students on roll and a class's roster are
the record's: xueji.students.school_api serves them under the same paths."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import (
    COMMON_ERRORS,
    DIVISION_CODE_PATTERN,
    DatabaseId,
    ErrorOut,
    NotBoolean,
    Offset,
    caller,
)
from xueji.core.errors import NotFound
from xueji.core.names import person_name
from xueji.schools.models import (
    MAX_GRADE,
    MIN_GRADE,
    Ownership,
    SchoolKind,
    UrbanRural,
    grade_label,
)
from xueji.schools.registry import (
    school_close,
    school_create,
    school_merge,
    school_merge_plan,
    school_update,
)
from xueji.schools.selectors import school_list, school_record

schools_router = Router(tags=["schools"])

SCHOOL_LIMIT_MAX = 500


def _teacher_name(school_class: Any) -> str | None:
    teacher = school_class.class_teacher
    if teacher is None:
        return None
    return person_name(teacher)  # 王金凤, family name first (xueji.core.names)


class SchoolParams(Schema):
    division: str | None = Field(
        None, pattern=DIVISION_CODE_PATTERN, description="Province, city or county code."
    )
    kind: SchoolKind | None = Field(None, description="The kind of school.")
    q: str = Field("", description="Part of the name, or the start of the school code.")
    limit: int = Field(100, ge=1, le=SCHOOL_LIMIT_MAX)
    offset: Offset = 0


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


# ---- the registry of schools (学校登记) ---------------------------------------------------------

SchoolCode = Annotated[str, Field(pattern=r"^[0-9]{10}$", description="学校标识码: 10 digits")]
Grade = Annotated[
    int,
    Field(ge=MIN_GRADE, le=MAX_GRADE, description="-2 … 0 kindergarten, 1 … 12"),
    NotBoolean,
]
SchoolId = DatabaseId


class SchoolRecordOut(Schema):
    """A school's registry entry."""

    id: int
    code: str
    name: str
    kind: SchoolKind
    county_code: str = Field(alias="county_id")
    county_name: str = Field(alias="county.name")
    city_code: str = Field(alias="city_id")
    province_code: str = Field(alias="province_id")
    first_grade: int
    last_grade: int
    address: str
    ownership: Ownership
    urban_rural: str = Field(
        description="城乡分类代码 (111 … 220); empty for a school registered before it was asked"
    )
    boarding: bool
    central_school_code: str | None = Field(
        None, description="A teaching point's central school (中心校)"
    )
    closed_on: datetime.date | None
    merged_into_code: str | None = Field(None, description="The school it merged into (整体并入)")

    @staticmethod
    def resolve_central_school_code(obj: Any) -> str | None:
        return obj.central_school.code if obj.central_school_id else None

    @staticmethod
    def resolve_merged_into_code(obj: Any) -> str | None:
        return obj.merged_into.code if obj.merged_into_id else None


class SchoolRegisterIn(Schema):
    code: SchoolCode
    name: str = Field(min_length=1, max_length=128)
    kind: SchoolKind
    county_code: str = Field(
        pattern=r"^[0-9]{6}$",
        description="A county-level division: a county, or a city without counties (东莞 441900)",
    )
    address: str = Field(min_length=1, max_length=200)
    urban_rural: UrbanRural = Field(description="城乡分类代码: 111, 112, 121, 122, 123, 210 or 220")
    ownership: Ownership = Ownership.PUBLIC
    boarding: bool = False
    first_grade: Grade | None = Field(None, description="Default: the kind's first grade")
    last_grade: Grade | None = Field(None, description="Default: the kind's last grade")
    central_school_code: SchoolCode | None = Field(
        None, description="For a teaching point (教学点): its central school (中心校)"
    )


class SchoolChangeIn(Schema):
    """The fields to change (any subset); the code and the county never change."""

    name: str | None = Field(None, min_length=1, max_length=128)
    kind: SchoolKind | None = None
    address: str | None = Field(None, min_length=1, max_length=200)
    urban_rural: UrbanRural | None = None
    ownership: Ownership | None = None
    boarding: bool | None = None
    first_grade: Grade | None = None
    last_grade: Grade | None = None
    central_school_code: SchoolCode | Literal[""] | None = Field(
        None, description="A teaching point's central school; empty to clear"
    )


class MergePlanOut(Schema):
    """What merging the school into another would move, and what stands in the way."""

    school: SchoolRecordOut
    into: SchoolRecordOut
    pupils: int = Field(description="Children on the school's roll now: send it back to confirm")
    grades_missing: list[int] = Field(description="Grades children sit in that the other lacks")
    obstacles: list[str]
    possible: bool


class MergeIn(Schema):
    into_school_id: SchoolId
    pupils: Annotated[int, Field(ge=0, le=10_000_000), NotBoolean] = Field(
        description="The number of children confirmed"
    )


class MergePreviewParams(Schema):
    into_school_id: SchoolId | None = Field(None, description="The school to merge into")


REGISTRY_ERRORS: dict[int, Any] = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}


@schools_router.post("", response={201: SchoolRecordOut, **REGISTRY_ERRORS})
@endpoint_requires(Action.SCHOOL_MANAGE)
def register_school(request: HttpRequest, payload: SchoolRegisterIn) -> object:
    """Register a school in a county-level division of your area (bureau approvers; a county
    bureau in its county, a city or province bureau anywhere in its area). 400
    `invalid_fields` names every bad field at once; 404 `county_not_found` outside your area."""
    school = school_create(
        actor=caller(request),
        **payload.dict(exclude_none=True),
    )
    return Status(201, school_record(caller(request), school.pk))


@schools_router.get(
    "/{int:school_id}/registry", response={200: SchoolRecordOut, 404: ErrorOut, **COMMON_ERRORS}
)
@endpoint_requires(Action.SCHOOL_VIEW)
def get_school_record(request: HttpRequest, school_id: DatabaseId) -> object:
    """One school's registry entry: address, 公办/民办, 城乡分类代码, boarding, central school,
    closed or merged."""
    found = school_record(caller(request), school_id)
    if found is None:
        raise NotFound("school_not_found", _("No such school."))
    return found


@schools_router.patch(
    "/{int:school_id}/registry", response={200: SchoolRecordOut, **REGISTRY_ERRORS}
)
@endpoint_requires(Action.SCHOOL_MANAGE)
def update_school(request: HttpRequest, school_id: DatabaseId, payload: SchoolChangeIn) -> object:
    """Change an open school's entry (not its code nor its county); grades children sit in
    are kept (400 `grade_held`)."""
    school_update(actor=caller(request), school_id=school_id, **payload.dict(exclude_none=True))
    return school_record(caller(request), school_id)


@schools_router.post("/{int:school_id}/close", response={200: SchoolRecordOut, **REGISTRY_ERRORS})
@endpoint_requires(Action.SCHOOL_MANAGE)
def close_school(request: HttpRequest, school_id: DatabaseId) -> object:
    """Close a school no child sits in any more: 409 `school_has_pupils` says how many do
    (`details.pupils`), 409 `school_manages_points` names its teaching points, 409
    `school_business_open` the changes and corrections still under way."""
    school_close(actor=caller(request), school_id=school_id)
    return school_record(caller(request), school_id)


@schools_router.get("/{int:school_id}/merge", response={200: MergePlanOut, **REGISTRY_ERRORS})
@endpoint_requires(Action.SCHOOL_MERGE)
def merge_preview(
    request: HttpRequest, school_id: DatabaseId, params: Query[MergePreviewParams]
) -> object:
    """What merging the school into another of its county (整体并入) would move (county
    approvers): the number of children to confirm, grades the other lacks, what stands in the
    way."""
    return school_merge_plan(
        caller(request), school_id=school_id, into_school_id=params.into_school_id
    )


@schools_router.post("/{int:school_id}/merge", response={200: MergePlanOut, **REGISTRY_ERRORS})
@endpoint_requires(Action.SCHOOL_MERGE)
def merge_school(request: HttpRequest, school_id: DatabaseId, payload: MergeIn) -> object:
    """Merge the school as a whole into another of its county (county approvers): every child
    on its roll moves at once (reason `school_merge`), its classes follow by name, it closes.
    `pupils` is the number you confirmed (from the preview): 409 `pupil_count_changed` when
    it is no longer that, 409 `merge_refused` with what stands in the way."""
    return school_merge(
        actor=caller(request),
        school_id=school_id,
        into_school_id=payload.into_school_id,
        pupils_confirmed=payload.pupils,
    )
