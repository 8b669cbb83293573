"""API of the students of a school and of a class: a school with its students on roll in each
class (under /api/schools, beside xueji.schools.api's list), and a class with its roster (under
/api/classes). They count and list the record, so they live here, above the school system.

Each operation keeps the OpenAPI id it had when xueji.schools.api served it, so that clients
generated from the document keep working.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import COMMON_ERRORS, DatabaseId, ErrorOut, caller
from xueji.core.errors import NotFound
from xueji.schools.api import ClassOut, SchoolDetailOut
from xueji.students.api import StudentSummaryOut
from xueji.students.overview import school_overview
from xueji.students.selectors import class_with_roster

school_students_router = Router(tags=["schools"])
classes_router = Router(tags=["classes"])


class ClassRosterOut(Schema):
    school_class: ClassOut
    student_count: int
    students: list[StudentSummaryOut]


@school_students_router.get(
    "/{int:school_id}",
    response={200: SchoolDetailOut, 404: ErrorOut, **COMMON_ERRORS},
    operation_id="xueji_schools_api_get_school",
)
@endpoint_requires(Action.SCHOOL_VIEW)
def get_school(request: HttpRequest, school_id: DatabaseId) -> object:
    """One school with its grades and classes, and the students on roll in each."""
    overview = school_overview(caller(request), school_id)
    if overview is None:
        raise NotFound("school_not_found", _("No such school."))
    return overview


@classes_router.get(
    "/{int:class_id}",
    response={200: ClassRosterOut, 404: ErrorOut, **COMMON_ERRORS},
    operation_id="xueji_schools_api_get_class",
)
@endpoint_requires(Action.ROSTER_VIEW)
def get_class(request: HttpRequest, class_id: DatabaseId) -> object:
    """One class with its roster: the students placed in it now (numbers masked)."""
    found = class_with_roster(caller(request), class_id)
    if found is None:
        raise NotFound("class_not_found", _("No such class."))
    school_class, students = found
    return {"school_class": school_class, "student_count": len(students), "students": students}
