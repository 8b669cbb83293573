"""Pages of key-data corrections and of the registrar's edit of other information."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import refusal_response
from xueji.access.policy import Action
from xueji.core.errors import FieldErrors, ServiceError
from xueji.corrections.evidence import EVIDENCE_MAX_BYTES, Upload
from xueji.corrections.forms import CorrectionForm, DecisionForm, OtherInfoForm
from xueji.corrections.selectors import correction_detail, correction_list, open_correction_of
from xueji.corrections.services import (
    correction_county_decision,
    correction_dismiss,
    correction_school_decision,
    correction_submit,
    correction_withdraw,
    evidence_open,
)
from xueji.corrections.workflow import State
from xueji.students.selectors import student_get
from xueji.students.services import student_update_other_info
from xueji.students.views import not_found


def _apply_errors(form: Any, errors: FieldErrors) -> None:
    for name, errs in errors.errors.items():
        for error in errs:
            form.add_error(name if name in form.fields else None, error)


@require_GET
@login_required
@requires(Action.CORRECTION_VIEW)
def correction_index(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    return render(
        request,
        "corrections/list.html",
        {"found": correction_list(request.user, state=state), "states": State, "state": state},
    )


@require_GET
@login_required
@requires(Action.CORRECTION_VIEW)
def detail(request: HttpRequest, correction_id: uuid.UUID) -> HttpResponse:
    found = correction_detail(request.user, correction_id)
    if found is None:
        return not_found(request)
    return render(
        request, "corrections/detail.html", {"found": found, "decision_form": DecisionForm()}
    )


def _uploads(request: HttpRequest) -> list[Upload]:
    # At most one byte past the limit is read: enough for the service to refuse the file.
    return [
        Upload(name=f.name or "", content=f.read(EVIDENCE_MAX_BYTES + 1))
        for f in request.FILES.getlist("evidence")
    ]


def _correction_form_page(
    request: HttpRequest, *, student: Any, correction: Any = None
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = CorrectionForm(data, request.FILES or None, user=request.user, student=student)
    if data is not None and form.is_valid():
        try:
            saved = correction_submit(
                actor=request.user,
                student_id=None if correction else student.pk,
                correction_id=correction.pk if correction else None,
                changes=form.changes(),
                reason=form.cleaned_data["reason"],
                evidence=_uploads(request),
            )
        except FieldErrors as errors:
            _apply_errors(form, errors)
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            form.add_error(None, str(refused.message))
        else:
            messages.success(
                request, _("The request is sent to the principal for the school's approval.")
            )
            return redirect("corrections:detail", correction_id=saved.pk)
    return render(
        request,
        "corrections/request.html",
        {"form": form, "student": student, "correction": correction},
        status=200 if data is None or not form.errors else 400,
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CORRECTION_REQUEST)
def new(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The registrar asks for a correction of a student's basic information."""
    student = student_get(request.user, student_id)
    if student is None:
        return not_found(request)
    under_way = open_correction_of(request.user, student.pk)
    if under_way is not None:
        messages.info(request, _("A correction request for this student is already under way."))
        return redirect("corrections:detail", correction_id=under_way.pk)
    return _correction_form_page(request, student=student)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CORRECTION_REQUEST)
def complete(request: HttpRequest, correction_id: uuid.UUID) -> HttpResponse:
    """The registrar turns a class teacher's report into a request with evidence."""
    found = correction_detail(request.user, correction_id)
    if found is None:
        return not_found(request)
    correction = found.correction
    if correction.state != State.REPORTED:
        return redirect("corrections:detail", correction_id=correction.pk)
    return _correction_form_page(request, student=correction.student, correction=correction)


def _decided(request: HttpRequest, correction_id: uuid.UUID, decide: Any) -> HttpResponse:
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        correction = decide(note)
    except FieldErrors as errors:
        messages.error(request, next(iter(errors.errors.values()))[0].messages[0])
    except ServiceError as refused:
        response = refusal_response(request, refused)
        if response is not None:
            return response
        messages.error(request, str(refused.message))
    else:
        messages.success(
            request,
            _("The request is now: %(state)s.") % {"state": State(correction.state).label},
        )
    return redirect("corrections:detail", correction_id=correction_id)


@require_POST
@login_required
@requires(Action.CORRECTION_APPROVE_SCHOOL)
def school_decision(request: HttpRequest, correction_id: uuid.UUID) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    return _decided(
        request,
        correction_id,
        lambda note: correction_school_decision(
            actor=request.user, correction_id=correction_id, approve=approve, note=note
        ),
    )


@require_POST
@login_required
@requires(Action.CORRECTION_APPROVE_COUNTY)
def county_decision(request: HttpRequest, correction_id: uuid.UUID) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    return _decided(
        request,
        correction_id,
        lambda note: correction_county_decision(
            actor=request.user, correction_id=correction_id, approve=approve, note=note
        ),
    )


@require_POST
@login_required
@requires(Action.CORRECTION_REQUEST)
def dismiss(request: HttpRequest, correction_id: uuid.UUID) -> HttpResponse:
    return _decided(
        request,
        correction_id,
        lambda note: correction_dismiss(actor=request.user, correction_id=correction_id, note=note),
    )


@require_POST
@login_required
@requires(Action.CORRECTION_REQUEST)
def withdraw(request: HttpRequest, correction_id: uuid.UUID) -> HttpResponse:
    return _decided(
        request,
        correction_id,
        lambda note: correction_withdraw(
            actor=request.user, correction_id=correction_id, note=note
        ),
    )


@require_GET
@login_required
@requires(Action.CORRECTION_VIEW)
def evidence(
    request: HttpRequest, correction_id: uuid.UUID, evidence_id: uuid.UUID
) -> HttpResponse:
    """An evidence file, as a download (never rendered inline by the browser)."""
    try:
        found, content = evidence_open(
            actor=request.user, correction_id=correction_id, evidence_id=evidence_id
        )
    except ServiceError as refused:
        response = refusal_response(request, refused)
        if response is not None:
            return response
        raise
    response = HttpResponse(content, content_type=found.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quoted(found.file_name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.STUDENT_EDIT_OTHER_INFO)
def other_info(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The registrar edits a student's other (non-basic) information."""
    student = student_get(request.user, student_id)
    if student is None:
        return not_found(request)
    data = request.POST if request.method == "POST" else None
    form = OtherInfoForm(data, user=request.user, student=student)
    if data is not None and form.is_valid():
        try:
            student_update_other_info(
                actor=request.user, student_id=student.pk, changes=form.changes()
            )
        except FieldErrors as errors:
            _apply_errors(form, errors)
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            form.add_error(None, str(refused.message))
        else:
            messages.success(request, _("The other information is saved."))
            return redirect("students:detail", student_id=student.pk)
    return render(
        request,
        "corrections/other_info.html",
        {"form": form, "student": student},
        status=200 if data is None or not form.errors else 400,
    )
