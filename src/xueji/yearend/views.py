"""Pages of the school year: runs with their dry run, start button and progress bar, the
reversal; the intake of graduates into a first grade; possible dropouts; outcomes."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import (
    form_submitted,
    refusal_as_message,
    refusal_on_form,
    refusal_response,
)
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.core.errors import ServiceError
from xueji.schools.models import School, SchoolClass
from xueji.students.views import not_found
from xueji.yearend.models import GRADUATION_OUTCOMES, RunKind, RunState
from xueji.yearend.period_services import promotion_period_clear, promotion_period_set
from xueji.yearend.periods import PeriodInForce, outside_periods, periods_page, periods_text
from xueji.yearend.selectors import (
    final_grade_students,
    notices_for,
    resolve_target,
    run_get,
    runs_visible,
)
from xueji.yearend.services import (
    OUTSIDE_PERIOD,
    intake_admit,
    outcome_set,
    reversible_until,
    run_plan,
    run_resume,
    run_reverse,
)

# An uploaded list of numbers: a text or CSV file, one number per line (first column).
MAX_LIST_BYTES = 2 * 1024 * 1024


class PlanForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Batch"), choices=RunKind.choices)
    scope = forms.CharField(
        label=gettext_lazy("Scope"),
        max_length=10,
        required=False,
        help_text=gettext_lazy("A 10-digit school code or a division code; empty: your area."),
    )
    from_year = forms.IntegerField(
        label=gettext_lazy("Academic year left"), min_value=2000, max_value=2100, required=False
    )
    confirm_outside_period = forms.BooleanField(
        label=gettext_lazy("Do it outside the promotion period"),
        required=False,
        help_text=gettext_lazy("Needed only outside the promotion period: the page says why."),
    )


class PeriodForm(forms.Form):
    """A level's promotion period, every year from one day to another (MM-DD)."""

    level = forms.ChoiceField(label=gettext_lazy("Whose"))
    starts = forms.CharField(
        label=gettext_lazy("From (MM-DD)"), max_length=5, widget=forms.TextInput({"size": 5})
    )
    ends = forms.CharField(
        label=gettext_lazy("To (MM-DD)"), max_length=5, widget=forms.TextInput({"size": 5})
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, levels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = levels  # type: ignore[attr-defined]


class IntakeForm(forms.Form):
    school_class = forms.ChoiceField(label=gettext_lazy("Class"))
    numbers = forms.CharField(
        label=gettext_lazy("Student numbers, one per line"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
    )
    file = forms.FileField(label=gettext_lazy("Or a text/CSV file of numbers"), required=False)

    def __init__(self, *args: object, classes: list[SchoolClass], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["school_class"].choices = [  # type: ignore[attr-defined]
            (c.pk, f"{c.academic_year} {c}") for c in classes
        ]

    def numbers_listed(self) -> list[str]:
        lines = (self.cleaned_data.get("numbers") or "").splitlines()
        upload = self.cleaned_data.get("file")
        if upload is not None:
            text = upload.read(MAX_LIST_BYTES).decode("utf-8-sig", errors="replace")
            lines += [line.split(",")[0].strip() for line in text.splitlines()]
        return lines


def _default_scope(request: HttpRequest) -> str:
    scope = scope_of(request.user)
    if scope is None or scope.level == "nation":
        return "nation"
    if scope.level == "school":
        return (
            School.objects.filter(pk=scope.school_id or 0).values_list("code", flat=True).first()
            or ""
        )
    return scope.division_code or ""


def _outside(scope_code: str) -> list[PeriodInForce]:
    """The promotion periods a run over the scope would be outside of today (none: inside)."""
    try:
        return outside_periods(resolve_target(scope_code), timezone.localdate())
    except ServiceError:
        return []


def _index_page(request: HttpRequest, form: PlanForm | None = None) -> HttpResponse:
    scope = scope_of(request.user)
    default_scope = _default_scope(request)
    return render(
        request,
        "yearend/index.html",
        {
            "runs": runs_visible(request.user),
            "notices": notices_for(request.user),
            "form": form or PlanForm(initial={"scope": default_scope}),
            "today": timezone.localdate(),
            "outside": periods_text(_outside(default_scope)),
            "may_run": may(scope, Action.YEAREND_RUN),
            "may_admit": may(scope, Action.INTAKE_ADMIT),
            "may_outcome": may(scope, Action.YEAREND_OUTCOME),
            "may_dropouts": may(scope, Action.DROPOUTS_VIEW),
            "may_periods": may(scope, Action.CHANGE_WINDOW_VIEW),
        },
        status=400 if form is not None and form.errors else 200,
    )


@require_GET
@login_required
@requires(Action.YEAREND_VIEW)
def index(request: HttpRequest) -> HttpResponse:
    return _index_page(request)


@require_POST
@login_required
@requires(Action.YEAREND_RUN)
def plan(request: HttpRequest) -> HttpResponse:
    """The dry run: what the batch would do; the run waits to be started. Outside the
    promotion period the form's check box must confirm it: the refusal says why, next to it."""
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _index_page(request, form)
    try:
        run = run_plan(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            scope=form.cleaned_data["scope"] or _default_scope(request),
            from_year=form.cleaned_data["from_year"],
            outside_period_confirmed=form.cleaned_data["confirm_outside_period"],
        )
    except ServiceError as error:
        if error.code == OUTSIDE_PERIOD:
            form.add_error("confirm_outside_period", str(error.message))
            return _index_page(request, form)
        return refusal_as_message(request, error) or redirect("yearend:index")
    return redirect("yearend:detail", run_id=run.pk)


def _run_context(request: HttpRequest, run_id: uuid.UUID) -> dict[str, object] | None:
    run = run_get(request.user, run_id)
    if run is None:
        return None
    scope = scope_of(request.user)
    return {
        "run": run,
        "running": run.state == RunState.RUNNING,
        "may_start": may(scope, Action.YEAREND_RUN)
        and run.state in (RunState.PLANNED, RunState.FAILED, RunState.RUNNING),
        "may_reverse": may(scope, Action.YEAREND_REVERSE)
        and run.state in (RunState.DONE, RunState.FAILED),
        "reversible_until": reversible_until(run),
        "outside": periods_text(_outside(run.scope_code))
        if run.state in (RunState.PLANNED, RunState.FAILED)
        else "",
        "today": timezone.localdate(),
    }


@require_GET
@login_required
@requires(Action.YEAREND_VIEW)
def detail(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    context = _run_context(request, run_id)
    if context is None:
        return not_found(request)
    return render(request, "yearend/detail.html", context)


@require_GET
@login_required
@requires(Action.YEAREND_VIEW)
def progress(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """The progress bar alone, polled by htmx every second while the run is running."""
    context = _run_context(request, run_id)
    if context is None:
        return not_found(request)
    return render(request, "yearend/_progress.html", context)


@require_POST
@login_required
@requires(Action.YEAREND_RUN)
def start(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """Start (or resume) the run; outside the promotion period only with the page's check box
    ticked (the refusal otherwise says why)."""
    try:
        run_resume(
            actor=request.user,
            run_id=run_id,
            outside_period_confirmed=request.POST.get("confirm_outside_period") == "on",
        )
        messages.success(request, _("The run has started; it goes on in the background."))
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("yearend:detail", run_id=run_id)
    return redirect("yearend:detail", run_id=run_id)


@require_POST
@login_required
@requires(Action.YEAREND_REVERSE)
def reverse_run(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    try:
        run_reverse(actor=request.user, run_id=run_id, note=request.POST.get("note", ""))
        messages.success(request, _("The run is reversed."))
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("yearend:detail", run_id=run_id)
    return redirect("yearend:detail", run_id=run_id)


def _entry_classes(request: HttpRequest) -> list[SchoolClass]:
    scope = scope_of(request.user)
    if scope is None or scope.school_id is None:
        return []
    return list(
        SchoolClass.objects.select_related("academic_year")
        .filter(school_id=scope.school_id, grade=F("school__first_grade"), grade__gt=1)
        .order_by("-academic_year__start_year", "number")
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.INTAKE_ADMIT)
def intake(request: HttpRequest) -> HttpResponse:
    """A junior or senior high school admits graduates by number (pasted or uploaded)."""
    classes = _entry_classes(request)
    data = request.POST if request.method == "POST" else None
    form = IntakeForm(data, request.FILES or None, classes=classes)
    if form.is_valid():
        try:
            result = intake_admit(
                actor=request.user,
                school_class_id=int(form.cleaned_data["school_class"]),
                student_numbers=form.numbers_listed(),
            )
            messages.success(
                request,
                _("%(count)d graduates admitted, with their records and numbers.")
                % {"count": result.admitted},
            )
            return redirect("yearend:intake")
        except ServiceError as error:
            refused = refusal_on_form(request, form, error)
            if refused is not None:
                return refused
    return render(
        request,
        "yearend/intake.html",
        {"form": form, "classes": classes},
        status=400 if form.errors else 200,
    )


@require_GET
@login_required
@requires(Action.DROPOUTS_VIEW)
def dropouts(request: HttpRequest) -> HttpResponse:
    """Graduates admitted nowhere are dropout-control cases now (xueji.attendance opens one for
    each after the intake deadline): the old list leads there, by the page's URL name."""
    return redirect(f"{reverse('attendance:cases')}?trigger=graduate_unadmitted&state=all")


@require_POST
@login_required
@requires(Action.YEAREND_OUTCOME)
def outcome(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The school records 结业 / 肄业 (or 毕业 again) for a final-grade student."""
    try:
        outcome_set(
            actor=request.user, student_id=student_id, outcome=request.POST.get("outcome", "")
        )
        messages.success(request, _("The outcome is recorded for the coming graduation."))
    except ServiceError as error:
        response = refusal_response(request, error)
        if response is not None:
            return response
        messages.error(request, str(error.message))
    return redirect("yearend:outcomes")


@require_GET
@login_required
@requires(Action.YEAREND_OUTCOME)
def outcomes(request: HttpRequest) -> HttpResponse:
    """The school's final-grade students and how each leaves at the coming graduation."""
    return render(
        request,
        "yearend/outcomes.html",
        {
            "rows": final_grade_students(request.user),
            "choices": [(o.value, o.label) for o in GRADUATION_OUTCOMES],
        },
    )


# ---- the promotion period ------------------------------------------------------------------


def _periods_page(
    request: HttpRequest, form: PeriodForm | None = None, status: int = 200
) -> HttpResponse:
    page = periods_page(request.user)
    if page is None:
        return not_found(request)
    if form is None and page.settable:
        form = PeriodForm(levels=page.settable, initial={"level": page.settable[0][0]})
    return render(
        request,
        "yearend/periods.html",
        {"page": page, "form": form, "clearable": {value for value, _label in page.settable}},
        status=status,
    )


@require_GET
@login_required
@requires(Action.CHANGE_WINDOW_VIEW)
def periods(request: HttpRequest) -> HttpResponse:
    """The promotion periods: the user's own place's, the nation's and the provinces' in view,
    and the form to set those the user may."""
    return _periods_page(request)


@require_POST
@login_required
@requires(Action.CHANGE_WINDOW_MANAGE)
def period_set(request: HttpRequest) -> HttpResponse:
    page = periods_page(request.user)
    if page is None:
        return not_found(request)
    form = PeriodForm(request.POST, levels=page.settable)

    def save() -> HttpResponse:
        promotion_period_set(
            actor=request.user,
            level=form.cleaned_data["level"],
            starts=form.cleaned_data["starts"],
            ends=form.cleaned_data["ends"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("The promotion period is set."))
        return redirect("yearend:periods")

    return form_submitted(request, form, save) or _periods_page(request, form, status=400)


@require_POST
@login_required
@requires(Action.CHANGE_WINDOW_MANAGE)
def period_clear(request: HttpRequest) -> HttpResponse:
    """A level's own period is cleared: a province then has the nation's again."""
    try:
        promotion_period_clear(actor=request.user, level=request.POST.get("level", ""))
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("yearend:periods")
    messages.success(request, _("The promotion period is cleared."))
    return redirect("yearend:periods")
