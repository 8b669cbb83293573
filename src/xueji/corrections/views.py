"""Pages of key-data corrections and of the registrar's edit of other information."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import (
    evidence_download,
    form_submitted,
    refusal_as_message,
)
from xueji.access.policy import Action
from xueji.core.errors import ServiceError
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


def _form_page(
    request: HttpRequest,
    form: Any,
    save: Callable[[], HttpResponse],
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A GET shows the form; a POST saves it, or shows it again with the reasons (400)."""
    return form_submitted(request, form, save) or render(
        request, template, {"form": form, **context}, status=400 if form.errors else 200
    )


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

    def save() -> HttpResponse:
        saved = correction_submit(
            actor=request.user,
            student_id=None if correction else student.pk,
            correction_id=correction.pk if correction else None,
            changes=form.changes(),
            reason=form.cleaned_data["reason"],
            evidence=_uploads(request),
        )
        messages.success(
            request, _("The request is sent to the principal for the school's approval.")
        )
        return redirect("corrections:detail", correction_id=saved.pk)

    return _form_page(
        request,
        form,
        save,
        "corrections/request.html",
        {"student": student, "correction": correction},
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


def _step(
    action: str, service: Callable[..., Any], *, decision: bool = False
) -> Callable[[HttpRequest, uuid.UUID], HttpResponse]:
    """The page that posts one step of the workflow (`service`, with the note, and with the
    approval where the step is a decision) and goes back to the request."""

    @require_POST
    @login_required
    @requires(action)
    def step(request: HttpRequest, correction_id: uuid.UUID) -> HttpResponse:
        form = DecisionForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        approval = {"approve": request.POST.get("decision") == "approve"} if decision else {}
        back = redirect("corrections:detail", correction_id=correction_id)
        try:
            correction = service(
                actor=request.user, correction_id=correction_id, note=note, **approval
            )
        except ServiceError as refused:
            return refusal_as_message(request, refused) or back
        messages.success(
            request,
            _("The request is now: %(state)s.") % {"state": State(correction.state).label},
        )
        return back

    return step


school_decision = _step(Action.CORRECTION_APPROVE_SCHOOL, correction_school_decision, decision=True)
county_decision = _step(Action.CORRECTION_APPROVE_COUNTY, correction_county_decision, decision=True)
dismiss = _step(Action.CORRECTION_REQUEST, correction_dismiss)
withdraw = _step(Action.CORRECTION_REQUEST, correction_withdraw)


@require_GET
@login_required
@requires(Action.CORRECTION_VIEW)
def evidence(
    request: HttpRequest, correction_id: uuid.UUID, evidence_id: uuid.UUID
) -> HttpResponse:
    """An evidence file, as a download (never rendered inline by the browser)."""
    return evidence_download(
        request,
        lambda: evidence_open(
            actor=request.user, correction_id=correction_id, evidence_id=evidence_id
        ),
    )


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

    def save() -> HttpResponse:
        student_update_other_info(actor=request.user, student_id=student.pk, changes=form.changes())
        messages.success(request, _("The other information is saved."))
        return redirect("students:detail", student_id=student.pk)

    return _form_page(request, form, save, "corrections/other_info.html", {"student": student})
