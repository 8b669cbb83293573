"""Pages of verification: class teachers check their class while the county's window is open;
county approvers open and close the windows; the registrar prints the guardians' record check
sheets (核对表) of a class and records what each sheet came back with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import (
    first_reason,
    form_submitted,
    refusal_as_message,
    refusal_on_form,
    refusal_response,
)
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of, today
from xueji.core.errors import ServiceError
from xueji.corrections.evidence import Upload
from xueji.corrections.models import EVIDENCE_MAX_BYTES
from xueji.students.selectors import student_record
from xueji.students.views import not_found
from xueji.students.views.record import record_actions
from xueji.verification.forms import (
    ConfirmedSheetForm,
    CorrectedSheetForm,
    ReportForm,
    WindowForm,
)
from xueji.verification.selectors import (
    CheckSheet,
    GuardianCheckPage,
    check_sheet,
    guardian_check_page,
    guardian_classes,
    guardian_sheets,
    my_classes,
    window_closing,
    windows_in_scope,
)
from xueji.verification.services import (
    guardian_check_record,
    student_confirm,
    student_report_error,
    window_close,
    window_open,
)


@require_GET
@login_required
@requires(Action.CLASS_VERIFY)
def my_classes_page(request: HttpRequest) -> HttpResponse:
    """The class teacher's classes and the county's window: open now, or when it opens."""
    return render(request, "verification/my_classes.html", {"mine": my_classes(request.user)})


@dataclass
class SheetRow:
    """A row of the check sheet as shown: its number, the child, what was found in this window,
    the report form (its note's id the child's own, so each label points to its own field) and,
    after an answer in place, what the answer did."""

    number: int
    student: Any
    check: Any
    report_form: ReportForm
    outcome: str = ""
    failed: bool = False


def _report_form(student_id: Any, data: Any = None) -> ReportForm:
    return ReportForm(data, auto_id=f"report-{student_id}-%s")


def _sheet_rows(found: CheckSheet) -> list[SheetRow]:
    return [
        SheetRow(number, row.student, row.check, _report_form(row.student.pk))
        for number, row in enumerate(found.rows, start=1)
    ]


@require_GET
@login_required
@requires(Action.CLASS_VERIFY)
def sheet(request: HttpRequest, class_id: int) -> HttpResponse:
    """The check sheet of an own class: only while the window is open (404 otherwise)."""
    found = check_sheet(request.user, class_id)
    if found is None:
        return not_found(request)
    return render(request, "verification/sheet.html", {"sheet": found, "rows": _sheet_rows(found)})


def _record_page(
    request: HttpRequest,
    class_id: int,
    student_id: uuid.UUID,
    report_form: ReportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The child's whole record as the record page shows it, with the check's bar on top: 无误,
    报告错误 (a note), 下一位 (the next child of the sheet not checked yet)."""
    found = check_sheet(request.user, class_id)
    position = None if found is None else found.position_of(student_id)
    student = None if position is None else student_record(request.user, student_id)
    if found is None or position is None or student is None:
        return not_found(request)
    return render(
        request,
        "verification/record.html",
        {
            "student": student,
            "record_actions": record_actions(request.user, student),
            "sheet": found,
            "row": found.rows[position],
            "position": position + 1,
            "next_row": found.next_unchecked(student_id),
            "report_form": report_form or ReportForm(),
        },
        status=status,
    )


@require_GET
@login_required
@requires(Action.CLASS_VERIFY)
def record(request: HttpRequest, class_id: int, student_id: uuid.UUID) -> HttpResponse:
    """A child's record opened from the check sheet (only while the window is open, only a child
    of the teacher's class on the sheet: 404 otherwise)."""
    return _record_page(request, class_id, student_id)


def _then_next(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """After an answer on the record page: the next child not checked yet, or the sheet when the
    class is done."""
    class_id = request.POST.get("class_id", "")
    found = check_sheet(request.user, int(class_id)) if class_id.isdigit() else None
    following = None if found is None else found.next_unchecked(student_id)
    if found is None:
        return redirect("verification:my_classes")
    if following is None:
        messages.success(request, _("Every child of the class is checked."))
        return redirect("verification:sheet", class_id=found.school_class.pk)
    return redirect(
        "verification:record", class_id=found.school_class.pk, student_id=following.student.pk
    )


def _from_record_page(request: HttpRequest) -> bool:
    return request.POST.get("then") == "next" and request.POST.get("class_id", "").isdigit()


def _row_in_place(
    request: HttpRequest,
    student_id: uuid.UUID,
    outcome: str,
    *,
    failed: bool = False,
    report_form: ReportForm | None = None,
) -> HttpResponse:
    """The child's row alone (htmx swaps it where it is, so the sheet keeps its place), with the
    sheet's counts out of band."""
    class_id = request.POST.get("class_id", "")
    found = check_sheet(request.user, int(class_id)) if class_id.isdigit() else None
    rows = [] if found is None else _sheet_rows(found)
    row = next((r for r in rows if r.student.pk == student_id), None)
    if found is None or row is None:
        return not_found(request)
    row.outcome, row.failed = outcome, failed
    if report_form is not None and row.check is None:
        row.report_form = report_form
    return render(
        request, "verification/_sheet_answer.html", {"sheet": found, "row": row, "oob": True}
    )


def _back_to_sheet(request: HttpRequest) -> HttpResponse:
    class_id = request.POST.get("class_id", "")
    if class_id.isdigit():
        return redirect("verification:sheet", class_id=int(class_id))
    return redirect("verification:my_classes")


@require_POST
@login_required
@requires(Action.CLASS_VERIFY)
def confirm(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    in_place = bool(getattr(request, "htmx", False))
    try:
        check = student_confirm(actor=request.user, student_id=student_id)
    except ServiceError as refused:
        if in_place:
            return refusal_response(request, refused) or _row_in_place(
                request, student_id, first_reason(refused), failed=True
            )
        if _from_record_page(request):
            return refusal_as_message(request, refused) or redirect(
                reverse(
                    "verification:record",
                    kwargs={"class_id": int(request.POST["class_id"]), "student_id": student_id},
                )
            )
        return refusal_as_message(request, refused) or _back_to_sheet(request)
    done = _("%(name)s: confirmed correct.") % {"name": check.student.name}
    if in_place:
        return _row_in_place(request, student_id, done)
    messages.success(request, done)
    if _from_record_page(request):
        return _then_next(request, student_id)
    return _back_to_sheet(request)


@require_POST
@login_required
@requires(Action.CLASS_VERIFY)
def report(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    in_place = bool(getattr(request, "htmx", False))
    form = _report_form(student_id, request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        check = student_report_error(actor=request.user, student_id=student_id, note=note)
    except ServiceError as refused:
        if in_place:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            refusal_on_form(request, form, refused)
            return _row_in_place(
                request, student_id, first_reason(refused), failed=True, report_form=form
            )
        if _from_record_page(request):
            response = refusal_response(request, refused)
            if response is not None:
                return response
            refusal_on_form(request, form, refused)
            return _record_page(
                request, int(request.POST["class_id"]), student_id, report_form=form, status=400
            )
        return refusal_as_message(request, refused) or _back_to_sheet(request)
    done = _("%(name)s: the error is reported to the school's registrar.") % {
        "name": check.student.name
    }
    if in_place:
        return _row_in_place(request, student_id, done)
    messages.success(request, done)
    if _from_record_page(request):
        return _then_next(request, student_id)
    return _back_to_sheet(request)


def _windows_page(request: HttpRequest, form: WindowForm, status: int = 200) -> HttpResponse:
    scope = scope_of(request.user)
    return render(
        request,
        "verification/windows.html",
        {
            "windows": windows_in_scope(request.user),
            "form": form,
            "may_manage": may(scope, Action.WINDOW_MANAGE),
            "today": today(),
        },
        status=status,
    )


@require_GET
@login_required
@requires(Action.WINDOW_VIEW)
def windows(request: HttpRequest) -> HttpResponse:
    """The windows of the counties in the user's area; county approvers open and close them."""
    return _windows_page(request, WindowForm())


@require_POST
@login_required
@requires(Action.WINDOW_MANAGE)
def open_window(request: HttpRequest) -> HttpResponse:
    form = WindowForm(request.POST)

    def save() -> HttpResponse:
        window = window_open(
            actor=request.user,
            opens_on=form.cleaned_data["opens_on"],
            closes_on=form.cleaned_data["closes_on"],
        )
        messages.success(
            request,
            _("Class teachers of the county see their classes from %(start)s to %(end)s.")
            % {"start": window.opens_on, "end": window.closes_on},
        )
        return redirect("verification:windows")

    return form_submitted(request, form, save) or _windows_page(request, form, status=400)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WINDOW_MANAGE)
def close_window(request: HttpRequest, window_id: int) -> HttpResponse:
    """Closing a window asks first: the page names the county and the dates and says what closing
    does (class teachers can no longer confirm or report; how many records are still unchecked).
    Only the POST of that page (confirmed=yes) closes it; anything else shows the page."""
    closing = window_closing(request.user, window_id)
    if closing is None:
        return not_found(request)
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        try:
            window_close(actor=request.user, window_id=window_id)
        except ServiceError as refused:
            return refusal_as_message(request, refused) or redirect("verification:windows")
        messages.success(
            request, _("The window is closed: class teachers no longer see their classes.")
        )
        return redirect("verification:windows")
    return render(request, "verification/window_close.html", {"closing": closing})


# ---- the guardians' record check sheets (核对表) ------------------------------------------------


@require_GET
@login_required
@requires(Action.GUARDIAN_CHECK)
def guardian_classes_page(request: HttpRequest) -> HttpResponse:
    """The registrar's classes: print each class's sheets, and what came back so far."""
    found = guardian_classes(request.user)
    if found is None:
        return not_found(request)
    school, year, rows = found
    return render(
        request,
        "verification/guardian_classes.html",
        {"school": school, "year": year, "rows": rows},
    )


@require_GET
@login_required
@requires(Action.GUARDIAN_CHECK)
def guardian_sheets_page(request: HttpRequest, class_id: int) -> HttpResponse:
    """One printable sheet per child of a class (a page each when printed); ID numbers masked
    unless ?reveal=1 (each child's reveal audited)."""
    sheets = guardian_sheets(request.user, class_id, reveal=request.GET.get("reveal") == "1")
    if sheets is None:
        return not_found(request)
    return render(
        request,
        "verification/guardian_sheets.html",
        {"sheets": sheets, "may_reveal": may(scope_of(request.user), Action.STUDENT_REVEAL_ID)},
    )


def _guardian_page(
    request: HttpRequest,
    page: GuardianCheckPage,
    *,
    confirmed: ConfirmedSheetForm | None = None,
    corrected: CorrectedSheetForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "verification/guardian_check.html",
        {
            "page": page,
            "confirmed_form": confirmed or ConfirmedSheetForm(),
            "corrected_form": corrected
            or CorrectedSheetForm(user=request.user, student=page.student),
            "problem": problem,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.GUARDIAN_CHECK)
def guardian_check(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """Record a child's returned sheet: confirmed, or the corrections it carries."""
    page = guardian_check_page(request.user, student_id)
    if page is None:
        return not_found(request)
    if request.method == "GET":
        return _guardian_page(request, page)
    confirmed = request.POST.get("outcome") == "confirmed"
    form: ConfirmedSheetForm
    if confirmed:
        form = ConfirmedSheetForm(request.POST)
    else:
        form = CorrectedSheetForm(
            request.POST, request.FILES, user=request.user, student=page.student
        )
    if form.is_valid():
        try:
            check = guardian_check_record(
                actor=request.user,
                student_id=page.student.pk,
                confirmed=confirmed,
                signed_by=form.cleaned_data["signed_by"],
                note=form.cleaned_data["note"],
                **(
                    {}
                    if confirmed or not isinstance(form, CorrectedSheetForm)
                    else {
                        "basic": form.basic(),
                        "other": form.other(),
                        "contacts": form.contacts(),
                        "reason": form.cleaned_data["reason"],
                        "evidence": [
                            Upload(name=f.name or "", content=f.read(EVIDENCE_MAX_BYTES + 1))
                            for f in form.cleaned_data["evidence"]
                        ],
                    }
                ),
            )
        except ServiceError as refused:
            response = refusal_on_form(request, form, refused)
            if response is not None:
                return response
        else:
            messages.success(
                request,
                _("%(name)s: the sheet is recorded (%(outcome)s).")
                % {"name": page.student.name, "outcome": check.get_outcome_display()},
            )
            return redirect("verification:guardian_classes")
    return _guardian_page(
        request,
        page,
        **({"confirmed": form} if confirmed else {"corrected": form}),  # type: ignore[arg-type]
        status=400,
    )
