"""API of student records: register, read, look up, search, and the J→G number conversion.

Students are named only by their internal UUID. Lists and lookups show ID numbers and student
numbers masked; the single-record read shows the student's own numbers in full.

No number travels in an address: a query string holding an ID-like run of digits (15 to 18
characters, the last may be X) is refused on every operation here before anything else, since
addresses land in proxies' and servers' access logs; a search by number posts its criteria
(`POST /api/students/search`).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core import codes
from xueji.core.api import (
    COMMON_ERRORS,
    DatabaseId,
    ErrorOut,
    NotBoolean,
    caller,
    error_body,
)
from xueji.core.errors import NotFound
from xueji.core.idnumbers import query_holds_id_like_number
from xueji.schools.models import MAX_GRADE, MIN_GRADE
from xueji.students.selectors import (
    student_by_number,
    student_numbers_revealed,
    student_record,
    student_search,
)
from xueji.students.services import (
    RegisteredElsewhere,
    student_assign_resident_id,
    student_register,
)
from xueji.students.validation import FamilyMemberData, StudentData

router = Router(tags=["students"])


def _refuse_numbers_in_query(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every operation of this router: a query string with an ID-like number is refused (400)
    before authentication and parsing, saying how to search instead."""

    @functools.wraps(run)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if query_holds_id_like_number(request.GET):
            body = error_body(
                "number_in_query",
                _(
                    "An ID number or student number cannot be sent in the address: addresses "
                    "are kept in access logs. Search with POST /api/students/search, the criteria "
                    "(q, school, grade, class_id, limit) in the JSON body; look up one number "
                    "with POST /api/students/lookup."
                ),
            )
            return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
        return run(request, *args, **kwargs)

    return guarded


router.add_decorator(_refuse_numbers_in_query, mode="view")

SEARCH_LIMIT_MAX = 200

MISSING_REASON_CODES = (
    "Code of the reason the member is missing: 1 deceased, 2 divorced with no contact, 3 unknown, "
    "4 abroad with no contact, 9 other; empty for a member who is present."
)


# ---- input -------------------------------------------------------------------------------------


class FamilyMemberIn(Schema):
    """A family member or guardian; a missing one gives `missing_reason` instead of a name."""

    relation: str
    name: str = ""
    id_doc_type: str = ""
    id_number: str = ""
    phone: str = ""
    employer: str = ""
    is_guardian: bool = False
    missing_reason: str = Field(
        "",
        description=MISSING_REASON_CODES
        + " Deprecated: the former words deceased, divorced, unknown, abroad and other are still "
        "accepted for a transition and stored as their codes 1, 2, 3, 4 and 9.",
    )

    @field_validator("missing_reason")
    @classmethod
    def _former_missing_reason(cls, value: str) -> str:
        # Clients written before the codes became numeric send the words; mapping them here
        # keeps those clients working while validation knows only the codes.
        return codes.MISSING_REASON_FORMER_CODES.get(value, value)


class StudentRegisterIn(Schema):
    """A new student (新生注册): the basic and other information, family, and the class.

    Codes are those of the national code lists (sex 1/2, ethnicity 01-56, 97, 98, document type
    1-9 or Z, a family member's relation 51 father, 52 mother, … and reason missing 1-4 or 9, …);
    fields left out take the usual value (e.g. nationality CHN, health 10).
    """

    school_class_id: int
    age_confirmation: str = Field(
        "", description="Why an age unusual for the grade is right; required only then."
    )
    start_date: datetime.date | None = None

    name: str
    sex: str
    birth_date: datetime.date
    birthplace_code: str
    ethnicity: str
    id_doc_type: str
    id_number: str | None = None
    nationality: str | None = None
    native_place_code: str | None = None
    overseas_status: str | None = None
    health: str | None = None
    hukou_division_code: str | None = None
    hukou_nature: str | None = None
    former_name: str | None = None
    address: str | None = None
    phone: str | None = None
    attendance_mode: str | None = None
    entry_method: str | None = None
    only_child: bool | None = None
    attended_preschool: bool | None = None
    left_behind: str | None = None
    migrant_child: bool | None = None
    orphan: bool | None = None
    martyr_family: bool | None = None
    inclusive_education: bool | None = None
    disability_type: str | None = None
    needs_aid: bool | None = None
    needs_school_bus: bool | None = None
    family: list[FamilyMemberIn] = Field(
        [],
        description=(
            "At least two members, as the national form and the page have them: usually the "
            "father (51) and the mother (52), or a relative who takes a row (a grandparent "
            "who is the guardian); a parent who is missing is recorded with `missing_reason` "
            "and no name. A family of one is refused (`father_not_recorded` or "
            "`mother_not_recorded`), as is one without a present guardian."
        ),
    )

    def student_data(self) -> StudentData:
        names = {f.name for f in dataclasses.fields(StudentData)} - {"family"}
        given = {
            name: value for name, value in self.dict(include=names).items() if value is not None
        }
        family = [FamilyMemberData(**member.dict()) for member in self.family]
        return StudentData(**given, family=family)


class NumberIn(Schema):
    number: str = Field(
        ..., description="A student number (current or former) or a resident ID number."
    )


class ResidentIdIn(Schema):
    id_number: str


class SearchParams(Schema):
    q: str = Field("", description="Name, pinyin, pinyin initials, or a number.")
    school: DatabaseId | None = Field(None, description="School id.")
    grade: Annotated[int, Field(ge=MIN_GRADE, le=MAX_GRADE), NotBoolean] | None = None
    class_id: DatabaseId | None = None
    limit: Annotated[int, Field(ge=1, le=SEARCH_LIMIT_MAX), NotBoolean] = 50


# ---- output ------------------------------------------------------------------------------------


class StudentSummaryOut(Schema):
    """A student as shown in lists: numbers masked."""

    id: uuid.UUID
    student_number: str
    number_kind: str
    name: str
    name_pinyin: str
    sex: str
    state: str
    id_doc_type: str
    id_number: str
    school_id: int
    school_name: str

    @staticmethod
    def resolve_student_number(obj: Any) -> str:
        return str(obj.number_masked)

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        return str(obj.id_number_masked)

    @staticmethod
    def resolve_school_name(obj: Any) -> str:
        return str(obj.school.name)


class FamilyMemberOut(Schema):
    id: uuid.UUID
    relation: str
    name: str
    id_doc_type: str
    id_number: str
    phone: str
    employer: str
    is_guardian: bool
    missing_reason: str = Field(description=MISSING_REASON_CODES)

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        return str(obj.id_number_masked)


class PlacementOut(Schema):
    id: uuid.UUID
    school_id: int
    school_name: str
    class_id: int
    class_name: str
    academic_year: int
    grade: int
    start_date: datetime.date
    end_date: datetime.date | None
    reason: str

    @staticmethod
    def resolve_school_name(obj: Any) -> str:
        return str(obj.school.name)

    @staticmethod
    def resolve_class_id(obj: Any) -> int:
        return int(obj.school_class_id)

    @staticmethod
    def resolve_class_name(obj: Any) -> str:
        return str(obj.school_class.name)

    @staticmethod
    def resolve_academic_year(obj: Any) -> int:
        return int(obj.school_class.academic_year.start_year)


class RevealedNumbersOut(Schema):
    student_number: str
    id_number: str


class StudentRecordOut(Schema):
    """The full record: basic and other information, family, placement history. Numbers are
    masked; `POST /students/{id}/reveal` gives them in full, and is audited."""

    id: uuid.UUID
    student_number: str
    number_kind: str
    former_numbers: list[str]
    state: str
    school_id: int
    school_name: str

    name: str
    name_pinyin: str
    sex: str
    birth_date: datetime.date
    birthplace_code: str
    native_place_code: str | None
    ethnicity: str
    nationality: str
    id_doc_type: str
    id_number: str
    overseas_status: str
    health: str
    hukou_division_code: str | None
    hukou_nature: str

    former_name: str
    address: str
    phone: str
    attendance_mode: str
    entry_method: str
    only_child: bool
    attended_preschool: bool
    left_behind: str
    migrant_child: bool
    orphan: bool
    martyr_family: bool
    inclusive_education: bool
    disability_type: str
    needs_aid: bool
    needs_school_bus: bool

    family: list[FamilyMemberOut]
    placements: list[PlacementOut]

    @staticmethod
    def resolve_former_numbers(obj: Any) -> list[str]:
        return [alias.number_masked for alias in obj.former_numbers.all()]

    @staticmethod
    def resolve_school_name(obj: Any) -> str:
        return str(obj.school.name)

    @staticmethod
    def resolve_student_number(obj: Any) -> str:
        return str(obj.number_masked)

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        return str(obj.id_number_masked)

    @staticmethod
    def resolve_birthplace_code(obj: Any) -> str:
        return str(obj.birthplace_id)

    @staticmethod
    def resolve_native_place_code(obj: Any) -> str | None:
        return obj.native_place_id  # type: ignore[no-any-return]

    @staticmethod
    def resolve_hukou_division_code(obj: Any) -> str | None:
        return obj.hukou_division_id  # type: ignore[no-any-return]

    @staticmethod
    def resolve_family(obj: Any) -> list[Any]:
        return list(obj.family.all())

    @staticmethod
    def resolve_placements(obj: Any) -> list[Any]:
        return list(obj.placements.all())


# ---- endpoints ---------------------------------------------------------------------------------


def _no_such_student() -> NotFound:
    return NotFound("student_not_found", _("No such student."))


@router.post(
    "",
    response={
        201: StudentRecordOut,
        404: ErrorOut,
        409: ErrorOut,
        429: ErrorOut,
        **COMMON_ERRORS,
    },
)
@endpoint_requires(Action.STUDENT_REGISTER)
def register_student(request: HttpRequest, payload: StudentRegisterIn) -> object:
    """Register a new student into a class of your school (school registrars only).

    Refusals: 400 `invalid_fields` (each field with its reason, e.g. `id_check_character`),
    404 `class_not_found` (not a class of your school), 409 `id_number_registered` (the ID
    number is held by a record of your school, or of another whose name is the one sent: the
    message names the school), 409 `registered_elsewhere` (held at another school by a record
    of another name: `details.transfer_url` is where a transfer is filed), 422
    `age_unusual_for_grade` (send `age_confirmation` with the reason), 429
    `lookup_limit_reached` (an answer about a number held at another school is a look-up,
    audited and limited per user and hour).
    """
    try:
        registration = student_register(
            actor=caller(request),
            school_class_id=payload.school_class_id,
            data=payload.student_data(),
            start_date=payload.start_date,
            age_confirmation=payload.age_confirmation,
        )
    except RegisteredElsewhere as refused:
        refused.details["transfer_url"] = request.build_absolute_uri(reverse("changes:transfer"))
        raise
    return Status(201, registration.student)


def _search(request: HttpRequest, params: SearchParams) -> object:
    return student_search(
        caller(request),
        query=params.q,
        school_id=params.school,
        grade=params.grade,
        class_id=params.class_id,
        limit=params.limit,
    )


@router.get("", response={200: list[StudentSummaryOut], **COMMON_ERRORS})
@endpoint_requires(Action.STUDENT_VIEW_LIST)
def search_students(request: HttpRequest, params: Query[SearchParams]) -> object:
    """Search your scope by name (prefix), pinyin or initials; by school, grade, class. Numbers
    in the results are masked. A query string holding an ID-like number is refused (400
    `number_in_query`): search by number with `POST /api/students/search`."""
    return _search(request, params)


@router.post("/search", response={200: list[StudentSummaryOut], **COMMON_ERRORS})
@endpoint_requires(Action.STUDENT_VIEW_LIST)
def search_students_by_body(request: HttpRequest, payload: SearchParams) -> object:
    """The same search as `GET /api/students`, its criteria in the JSON body, so that a student
    number or ID number stays out of addresses and access logs; the same page of results."""
    return _search(request, payload)


@router.post("/lookup", response={200: StudentSummaryOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.STUDENT_VIEW_LIST)
def lookup_student(request: HttpRequest, payload: NumberIn) -> object:
    """Exact lookup by a student number (a former one too) or a resident ID number.

    The number travels in the body, so that it does not land in URLs and access logs."""
    student = student_by_number(caller(request), payload.number)
    if student is None:
        raise _no_such_student()
    return student


@router.get("/{uuid:student_id}", response={200: StudentRecordOut, 404: ErrorOut, **COMMON_ERRORS})
@endpoint_requires(Action.STUDENT_VIEW)
def get_student(request: HttpRequest, student_id: uuid.UUID) -> object:
    """The full record of one student in your scope."""
    student = student_record(caller(request), student_id)
    if student is None:
        raise _no_such_student()
    return student


@router.post(
    "/{uuid:student_id}/reveal",
    response={200: RevealedNumbersOut, 404: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.STUDENT_REVEAL_ID)
def reveal_numbers(request: HttpRequest, student_id: uuid.UUID) -> object:
    """The student number and ID number in full. Every reveal is written to the audit trail."""
    numbers = student_numbers_revealed(caller(request), student_id)
    if numbers is None:
        raise _no_such_student()
    return numbers


@router.post(
    "/{uuid:student_id}/resident-id",
    response={200: StudentRecordOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.STUDENT_ASSIGN_RESIDENT_ID)
def assign_resident_id(
    request: HttpRequest, student_id: uuid.UUID, payload: ResidentIdIn
) -> object:
    """Give a J-numbered student the formal G number from a resident ID number; the old
    number keeps resolving to the same record."""
    return student_assign_resident_id(
        actor=caller(request), student_id=student_id, id_number=payload.id_number
    )
