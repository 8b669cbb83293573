"""A student's record page and what it offers: the numbers in full, the formal number."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from xueji.access.decorators import requires
from xueji.access.lookups import LookupLimitReached
from xueji.access.policy import Action
from xueji.access.scope import may_act_at, may_at_school, scope_of
from xueji.core import codes
from xueji.core.errors import FieldErrors, ServiceError
from xueji.core.idnumbers import g_number, mask_student_number
from xueji.students.forms import (
    ResidentIdForm,
)
from xueji.students.models import NumberKind
from xueji.students.selectors import (
    student_numbers_revealed,
    student_record,
)
from xueji.students.services import (
    student_assign_resident_id,
)
from xueji.students.validation import id_number_check
from xueji.students.views.common import not_found


@require_GET
@login_required
@requires(Action.STUDENT_VIEW)
def student_detail(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The full record; outside the user's scope it does not exist (404)."""
    student = student_record(request.user, student_id)
    if student is None:
        return not_found(request)
    return render(
        request,
        "students/detail.html",
        {"student": student, "record_actions": record_actions(request.user, student)},
    )


def record_actions(user: Any, student: Any) -> dict[str, bool]:
    """The record page's own buttons the user is offered: each only where the permission matrix,
    with its grant's limit, lets this user do it to this child (a class teacher, who sees the
    record but may not reveal its numbers, is not offered to)."""
    scope = scope_of(user)
    return {
        "reveal": may_act_at(scope, Action.STUDENT_REVEAL_ID, student.school),
        "formal_number": student.number_kind != NumberKind.G
        and may_at_school(scope, Action.STUDENT_ASSIGN_RESIDENT_ID, student.school_id),
    }


@require_http_methods(["POST"])
@login_required
@requires(Action.STUDENT_REVEAL_ID)
def reveal_numbers(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The student's numbers in full, on request; the selector audits every reveal."""
    numbers = student_numbers_revealed(request.user, student_id)
    if numbers is None:
        return not_found(request)
    if getattr(request, "htmx", False):
        return render(request, "students/_revealed_numbers.html", {"numbers": numbers})
    student = student_record(request.user, student_id)
    return render(
        request,
        "students/detail.html",
        {
            "student": student,
            "numbers": numbers,
            "record_actions": record_actions(request.user, student),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.STUDENT_ASSIGN_RESIDENT_ID)
def formal_number(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """转为正式学籍号: a J- or L-numbered child who now has a resident ID gets the formal G number.
    The number is checked against the record (birth date, sex), then shown with what changes
    for the registrar to confirm; the service writes and another record holding the number is
    refused there. The old number keeps leading to the child."""
    student = student_record(request.user, student_id)
    scope = scope_of(request.user)
    if student is None or not may_at_school(
        scope, Action.STUDENT_ASSIGN_RESIDENT_ID, student.school_id
    ):
        return not_found(request)
    form = ResidentIdForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"student": student, "form": form, "confirming": False}
    status = 200
    if student.number_kind == NumberKind.G or not form.is_valid():
        return render(request, "students/formal_number.html", context, status=status)
    check = id_number_check(
        codes.IdDocType.RESIDENT_ID.value,
        form.cleaned_data["id_number"],
        birth_date=student.birth_date,
        sex=student.sex,
    )
    if check.errors:
        form.add_error("id_number", check.errors)
    elif not form.cleaned_data["confirmed"]:
        context.update(
            confirming=True,
            id_number=check.number,
            new_number=mask_student_number(g_number(check.number)),
        )
    else:
        try:
            changed = student_assign_resident_id(
                actor=request.user, student_id=student.pk, id_number=check.number
            )
        except FieldErrors as refused:
            for errors in refused.errors.values():
                form.add_error("id_number", errors)
        except ServiceError as refused:
            form.add_error("id_number", str(refused.message))
            status = 429 if isinstance(refused, LookupLimitReached) else 409
        else:
            messages.success(
                request,
                _(
                    "%(name)s now has the formal student number %(number)s; the former number "
                    "%(former)s still leads to the record."
                )
                % {
                    "name": changed.name,
                    "number": changed.number_masked,
                    "former": student.number_masked,
                },
            )
            return redirect("students:detail", student_id=student.pk)
    return render(request, "students/formal_number.html", context, status=status)
