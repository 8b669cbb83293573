"""API of subject assignments (任课安排) by the school's registrar, as the teaching page
(/teaching/?year=): the school's assignments of a school year with its classes and subject
teachers, a subject teacher assigned to teach a subject in a class, an assignment ended (the
scores entered stay). Every write is a service of xueji.scores.services, audited."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused
from xueji.core.api import COMMON_ERRORS, DatabaseId, ErrorOut, Year, caller
from xueji.core.names import person_name
from xueji.scores.models import Subject, TeachingAssignment
from xueji.scores.selectors import school_assignment, school_teaching
from xueji.scores.services import teaching_assign, teaching_unassign

router = Router(tags=["teaching"])

ERRORS: dict[int, Any] = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}


class AssignmentOut(Schema):
    id: int
    class_id: int
    class_name: str
    grade: int
    year: int
    subject: Subject
    teacher_id: int
    teacher: str


class TeachingClassOut(Schema):
    id: int
    name: str
    grade: int
    year: int


class SubjectTeacherOut(Schema):
    id: int
    name: str


class TeachingOut(Schema):
    year: int | None = Field(description="The school year asked for; None: every assignment")
    assignments: list[AssignmentOut]
    classes: list[TeachingClassOut]
    teachers: list[SubjectTeacherOut] = Field(description="The school's subject teachers")


class TeachingParams(Schema):
    year: Year | None = Field(None, description="Only this school year's classes (a year set up)")


class AssignIn(Schema):
    class_id: DatabaseId
    subject: Subject
    teacher_id: DatabaseId = Field(description="A subject teacher of your school")


class EndedOut(Schema):
    ended: int


def _assignment(assignment: TeachingAssignment) -> dict[str, Any]:
    school_class = assignment.school_class
    return {
        "id": assignment.pk,
        "class_id": school_class.pk,
        "class_name": school_class.name,
        "grade": school_class.grade,
        "year": school_class.academic_year.start_year,
        "subject": assignment.subject,
        "teacher_id": assignment.teacher_id,
        "teacher": person_name(assignment.teacher),
    }


@router.get("", response={200: TeachingOut, **ERRORS}, summary="Your school's subject teaching")
@endpoint_requires(Action.TEACHING_MANAGE)
def teaching_list(request: HttpRequest, params: Query[TeachingParams]) -> dict[str, Any]:
    """Who teaches which subject in which class, the classes and the subject teachers."""
    overview = school_teaching(caller(request), params.year)
    if overview is None:
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    return {
        "year": overview.year,
        "assignments": [_assignment(a) for a in overview.assignments],
        "classes": [
            {"id": c.pk, "name": c.name, "grade": c.grade, "year": c.academic_year.start_year}
            for c in overview.classes
        ],
        "teachers": [{"id": t.pk, "name": person_name(t)} for t in overview.teachers],
    }


@router.post("", response={201: AssignmentOut, **ERRORS}, summary="Assign a subject teacher")
@endpoint_requires(Action.TEACHING_MANAGE)
def teaching_add(request: HttpRequest, body: AssignIn) -> Status[dict[str, Any]]:
    """A subject teacher of your school teaches a subject in a class of your school (this year
    or one being set up). 400 `not_a_subject_teacher`; 409 `subject_taken`."""
    made = teaching_assign(
        actor=caller(request),
        school_class_id=body.class_id,
        subject=body.subject,
        teacher_id=body.teacher_id,
    )
    found = school_assignment(caller(request), made.pk)
    assert found is not None
    return Status(201, _assignment(found))


@router.post(
    "/{int:assignment_id}/end", response={200: EndedOut, **ERRORS}, summary="End an assignment"
)
@endpoint_requires(Action.TEACHING_MANAGE)
def teaching_end(request: HttpRequest, assignment_id: DatabaseId) -> dict[str, Any]:
    """The teacher no longer teaches the subject in the class; the scores entered stay."""
    teaching_unassign(actor=caller(request), assignment_id=assignment_id)
    return {"ended": assignment_id}
