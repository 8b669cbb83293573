"""Aid pages: programmes, need (application, assessment, notice, county approval), the school's
application and the county's decision, payments and the bank's files, the family lists
(应助尽助) and the finance figures a county loads."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import refusal_as_message, refusal_on_form, refusal_response
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import area_q, may
from xueji.core.errors import ServiceError
from xueji.schools.models import School, academic_start_year
from xueji.students.models import FamilyMember, Student
from xueji.students.views import not_found
from xueji.welfare import aid, checks, selectors
from xueji.welfare.models import (
    AidCategory,
    AidPayment,
    ApplicationState,
    NeedAssessment,
    NeedState,
    PaymentMode,
    Stage,
)
from xueji.welfare.validation import FileRefused
from xueji.welfare.views.common import picked_term, scope, term_context


def _upload(request: HttpRequest) -> bytes:
    found = request.FILES.get("file")
    return found.read() if found is not None else b""


def _file_refused(request: HttpRequest, error: ServiceError) -> list[Any]:
    """A refused file: the message, and each bad row and field for the page."""
    messages.error(request, str(error.message))
    return list(getattr(error, "errors", []))[:200] if isinstance(error, FileRefused) else []


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def aid_home(request: HttpRequest) -> HttpResponse:
    """Programmes, need assessments, applications and awards of the user's area."""
    user_scope = scope(request)
    term = picked_term(request)
    applications = selectors.applications_visible(user_scope)
    state = request.GET.get("state", "")
    if state in ApplicationState.values:
        applications = applications.filter(state=state)
    if term is not None:
        applications = applications.filter(term=term)
    students: list[Student] = []
    if user_scope is not None and user_scope.level == ScopeLevel.SCHOOL:
        query = (request.GET.get("q") or "").strip()[:32]
        if query:
            students = list(
                Student.objects.filter(
                    school_id=user_scope.school_id or 0, name__startswith=query
                ).order_by("name_pinyin")[:20]
            )
    return render(
        request,
        "welfare/aid.html",
        {
            **term_context(request),
            "programmes": aid.programmes_for(user_scope),
            "needs": selectors.needs_visible(user_scope).exclude(state=NeedState.REJECTED)[:100],
            "applications": applications[:100],
            "states": ApplicationState.choices,
            "state": state,
            "students": students,
            "query": request.GET.get("q", ""),
            "may_school": may(user_scope, Action.WELFARE_SCHOOL),
            "may_county": may(user_scope, Action.WELFARE_COUNTY),
            "may_settings": may(user_scope, Action.WELFARE_SETTINGS),
            "school_level": user_scope is not None and user_scope.level == ScopeLevel.SCHOOL,
        },
    )


class ProgrammeForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    stages = forms.MultipleChoiceField(
        label=gettext_lazy("Stages"), choices=Stage.choices, widget=forms.CheckboxSelectMultiple
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Eligibility categories"),
        choices=AidCategory.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    term_yuan = forms.DecimalField(
        label=gettext_lazy("Amount per term (yuan)"),
        min_value=0.01,
        max_value=100000,
        decimal_places=2,
    )
    payment_mode = forms.ChoiceField(
        label=gettext_lazy("Payment mode"), choices=PaymentMode.choices
    )
    quotas = forms.CharField(
        label=gettext_lazy("County quotas"),
        required=False,
        help_text=gettext_lazy("One county a line: code and places, e.g. 440304 300."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_quotas(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for line in (self.cleaned_data.get("quotas") or "").splitlines():
            parts = line.split()
            if not parts:
                continue
            if (
                len(parts) != 2
                or not parts[0].isdigit()
                or not parts[1].isdigit()
                or len(parts[1]) > 7
            ):
                raise forms.ValidationError(
                    _("Write a county code and a number of places on each line.")
                )
            found[parts[0]] = int(parts[1])
        return found


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_SETTINGS)
def programme_new(request: HttpRequest) -> HttpResponse:
    """A programme of the ministry, or of the approver's province."""
    user_scope = scope(request)
    form = ProgrammeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and user_scope is not None:
        data = form.cleaned_data
        try:
            aid.programme_create(
                actor=request.user,
                scope=user_scope,
                name=data["name"],
                province_code=None,
                stages=data["stages"],
                categories=data["categories"],
                term_fen=int(data["term_yuan"] * 100),
                payment_mode=data["payment_mode"],
                quotas=data["quotas"],
            )
        except ServiceError as error:
            response = refusal_on_form(request, form, error)
            if response is not None:
                return response
        else:
            messages.success(request, _("The programme is saved."))
            return redirect("welfare:aid")
    return render(request, "welfare/programme_new.html", {"form": form})


def _school_child(request: HttpRequest, student_id: uuid.UUID) -> Student | None:
    user_scope = scope(request)
    if user_scope is None or user_scope.level != ScopeLevel.SCHOOL:
        return None
    return Student.objects.filter(pk=student_id, school_id=user_scope.school_id or 0).first()


class NeedForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=AidCategory.choices)
    family_statement = forms.CharField(
        label=gettext_lazy("Family's application"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_SCHOOL)
def need_new(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The family's application for need (困难学生认定), entered by the school."""
    student = _school_child(request, student_id)
    if student is None:
        return not_found(request)
    form = NeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        from xueji.access.scope import today

        try:
            aid.need_apply(
                actor=request.user,
                scope=scope(request),  # type: ignore[arg-type]
                student_id=student.pk,
                category=form.cleaned_data["category"],
                family_statement=form.cleaned_data["family_statement"],
                start_year=academic_start_year(today()),
            )
        except ServiceError as error:
            response = refusal_on_form(request, form, error)
            if response is not None:
                return response
        else:
            messages.success(
                request, _("The application is entered: the assessment group decides next.")
            )
            return redirect("welfare:aid")
    return render(request, "welfare/need_new.html", {"form": form, "student": student})


@require_POST
@login_required
@requires(Action.WELFARE_SCHOOL)
def need_assess(request: HttpRequest, need_id: uuid.UUID) -> HttpResponse:
    """The school's assessment group records its finding, or publishes the notice."""
    return _need_step(request, need_id, request.POST.get("event", ""), request.POST.get("note", ""))


@require_POST
@login_required
@requires(Action.WELFARE_COUNTY)
def need_decide(request: HttpRequest, need_id: uuid.UUID) -> HttpResponse:
    """The county approves or rejects a need after its notice."""
    return _need_step(request, need_id, request.POST.get("decision", ""), "")


def _need_step(request: HttpRequest, need_id: uuid.UUID, event: str, note: str) -> HttpResponse:
    user_scope = scope(request)
    if user_scope is None or not selectors.needs_visible(user_scope).filter(pk=need_id).exists():
        return not_found(request)
    try:
        aid.need_step(actor=request.user, scope=user_scope, need_id=need_id, event=event, note=note)
    except ServiceError as error:
        response = refusal_as_message(request, error)
        if response is not None:
            return response
    else:
        messages.success(request, _("Saved."))
    return redirect("welfare:aid")


class ApplyForm(forms.Form):
    programme = forms.ChoiceField(label=gettext_lazy("Programme"))
    term = forms.ChoiceField(label=gettext_lazy("Term"))
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    payee = forms.ChoiceField(label=gettext_lazy("Payee (a guardian)"), required=False)
    account = forms.CharField(label=gettext_lazy("Account number"), required=False, max_length=40)

    def __init__(
        self, *args: Any, programmes: Any, terms: Any, guardians: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["programme"]).choices = [
            (p.pk, f"{p.name} ({p.get_payment_mode_display()})") for p in programmes
        ]
        cast(forms.ChoiceField, self.fields["term"]).choices = [(t.pk, str(t)) for t in terms]
        cast(forms.ChoiceField, self.fields["payee"]).choices = [("", "—")] + [
            (m.pk, f"{m.get_relation_display()} {m.name}") for m in guardians
        ]


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_SCHOOL)
def apply(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The school applies for the child in a programme and term, with evidence and the payee."""
    student = _school_child(request, student_id)
    if student is None:
        return not_found(request)
    user_scope = scope(request)
    guardians = FamilyMember.objects.filter(student=student, is_guardian=True)
    form = ApplyForm(
        request.POST or None,
        programmes=aid.programmes_for(user_scope).filter(active=True),
        terms=selectors.terms()[:4],
        guardians=guardians,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            aid.aid_apply(
                actor=request.user,
                scope=user_scope,  # type: ignore[arg-type]
                student_id=student.pk,
                programme_id=int(data["programme"]),
                term_id=int(data["term"]),
                evidence=data["evidence"],
                payee_id=data["payee"] or None,
                account=data["account"],
            )
        except ServiceError as error:
            response = refusal_on_form(request, form, error)
            if response is not None:
                return response
        else:
            messages.success(request, _("The application is filed: the county decides."))
            return redirect("welfare:aid")
    needs = NeedAssessment.objects.filter(student=student).order_by("-start_year")
    return render(request, "welfare/apply.html", {"form": form, "student": student, "needs": needs})


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_COUNTY)
def application_decide(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """The county's decision: an approval makes the award (asked to confirm, naming it)."""
    user_scope = scope(request)
    application = selectors.applications_visible(user_scope).filter(pk=application_id).first()
    if application is None:
        return not_found(request)
    decision = request.POST.get("decision", "")
    if request.method == "POST" and (
        decision == "reject" or request.POST.get("confirmed") == "yes"
    ):
        try:
            aid.aid_decide(
                actor=request.user,
                scope=user_scope,  # type: ignore[arg-type]
                application_id=application.pk,
                decision=decision,
                reason=request.POST.get("reason", ""),
            )
        except ServiceError as error:
            response = refusal_as_message(request, error)
            if response is not None:
                return response
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("welfare:aid")
    return render(request, "welfare/decide.html", {"application": application})


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def notice(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's public notice of need (公示): masked names, grades and classes, no family
    details or categories."""
    user_scope = scope(request)
    school = School.objects.filter(area_q(user_scope, "")).filter(pk=school_id).first()
    if school is None:
        return not_found(request)
    from xueji.students.models import Placement

    needs = list(
        NeedAssessment.objects.filter(school=school, state=NeedState.NOTICED)
        .select_related("student")
        .order_by("notice_from")
    )
    classes = dict(
        Placement.objects.filter(
            student_id__in=[n.student_id for n in needs], end_date__isnull=True
        ).values_list("student_id", "school_class__name")
    )
    grades = dict(
        Placement.objects.filter(
            student_id__in=[n.student_id for n in needs], end_date__isnull=True
        ).values_list("student_id", "grade")
    )
    rows = [
        {
            "name": selectors.masked_name(n.student.name),
            "grade": grades.get(n.student_id),
            "class": classes.get(n.student_id, ""),
            "from": n.notice_from,
        }
        for n in needs
    ]
    return render(request, "welfare/notice.html", {"school": school, "rows": rows})


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_COUNTY)
def payments(request: HttpRequest) -> HttpResponse:
    """The county's payment lists: make them, download the bank's file, load its result."""
    user_scope = scope(request)
    term = picked_term(request)
    row_errors: list[Any] = []
    if request.method == "POST" and user_scope is not None and term is not None:
        op = request.POST.get("op", "")
        programme_id = request.POST.get("programme", "")
        try:
            if op == "make" and programme_id.isdigit():
                made = aid.payments_make(
                    actor=request.user,
                    scope=user_scope,
                    programme_id=int(programme_id),
                    term_id=term.pk,
                )
                messages.success(
                    request, _("%(count)d payments put on the list.") % {"count": made}
                )
            elif op == "bank" and programme_id.isdigit():
                data = aid.bank_file(
                    actor=request.user,
                    scope=user_scope,
                    programme_id=int(programme_id),
                    term_id=term.pk,
                )
                download = HttpResponse(data, content_type="text/csv; charset=utf-8")
                download["Content-Disposition"] = 'attachment; filename="xueji-aid-payments.csv"'
                return download
            elif op == "results" and "file" in request.FILES:
                loaded = aid.bank_result_import(
                    actor=request.user, scope=user_scope, data=_upload(request)
                )
                messages.success(
                    request,
                    _(
                        "Results loaded: %(changed)d payments changed, %(unchanged)d already "
                        "recorded."
                    )
                    % loaded,
                )
            elif op == "carry":
                made = aid.awards_carry_forward(
                    actor=request.user, scope=user_scope, term_id=term.pk
                )
                messages.success(
                    request, _("%(count)d awards carried into the term.") % {"count": made}
                )
            else:
                messages.error(request, _("Choose a programme, or a file."))
        except ServiceError as error:
            if error.status == 404 and op == "carry":
                messages.error(request, _("Awards are carried into a spring term."))
            else:
                response = refusal_response(request, error)
                if response is not None:
                    return response
                row_errors = _file_refused(request, error)
        if not row_errors:
            return redirect(f"{request.path}?term={term.pk}")
    programmes = list(aid.programmes_for(user_scope))
    counts: dict[int, dict[str, int]] = {}
    if term is not None:
        for row in (
            AidPayment.objects.filter(area_q(user_scope, "award__school__"), term=term)
            .values("programme_id", "state")
            .annotate(n=Count("id"))
        ):
            counts.setdefault(row["programme_id"], {})[row["state"]] = row["n"]
    awards = aid.award_counts([p.pk for p in programmes], term) if term else {}
    rows = [
        {"programme": p, "awards": awards.get(p.pk, 0), "states": counts.get(p.pk, {})}
        for p in programmes
    ]
    recent = selectors.payments_visible(user_scope).filter(term=term)[:100] if term else []
    return render(
        request,
        "welfare/payments.html",
        {**term_context(request), "rows": rows, "payments": recent, "row_errors": row_errors},
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_COUNTY)
def entitled(request: HttpRequest) -> HttpResponse:
    """应助尽助: the county loads its families' lists; children of those families enrolled in
    its schools with no aid this term are listed."""
    user_scope = scope(request)
    term = picked_term(request)
    row_errors: list[Any] = []
    if request.method == "POST" and user_scope is not None:
        try:
            if "file" not in request.FILES:
                raise FileRefused("file_empty", _("Choose a file."))
            count = aid.family_list_load(
                actor=request.user,
                scope=user_scope,
                category=request.POST.get("category", ""),
                data=_upload(request),
            )
        except ServiceError as error:
            response = refusal_response(request, error)
            if response is not None:
                return response
            row_errors = _file_refused(request, error)
        else:
            messages.success(request, _("%(count)d people loaded.") % {"count": count})
            return redirect("welfare:entitled")
    found = (
        aid.entitled_unaided(county_code=user_scope.division_code or "", term=term)
        if user_scope is not None and term is not None and user_scope.level == ScopeLevel.COUNTY
        else []
    )
    from xueji.welfare.models import FamilyListEntry

    lists = (
        FamilyListEntry.objects.filter(county_id=user_scope.division_code if user_scope else "")
        .values("category")
        .annotate(n=Count("id"))
        .order_by("category")
    )
    return render(
        request,
        "welfare/entitled.html",
        {
            **term_context(request),
            "found": found,
            "categories": AidCategory.choices,
            "lists": [{"label": AidCategory(r["category"]).label, "n": r["n"]} for r in lists],
            "row_errors": row_errors,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_COUNTY)
def finance(request: HttpRequest) -> HttpResponse:
    """The finance system's head counts and amounts per school and term (for the checks)."""
    user_scope = scope(request)
    term = picked_term(request)
    row_errors: list[Any] = []
    if request.method == "POST" and user_scope is not None and term is not None:
        try:
            if "file" not in request.FILES:
                raise FileRefused("file_empty", _("Choose a file."))
            count = checks.finance_figures_load(
                actor=request.user, scope=user_scope, term=term, data=_upload(request)
            )
        except ServiceError as error:
            response = refusal_response(request, error)
            if response is not None:
                return response
            row_errors = _file_refused(request, error)
        else:
            messages.success(request, _("%(count)d schools' figures loaded.") % {"count": count})
            return redirect(f"{request.path}?term={term.pk}")
    from xueji.welfare.models import FinanceFigure

    figures = (
        FinanceFigure.objects.filter(area_q(user_scope, "school__"), term=term).select_related(
            "school"
        )[:500]
        if term
        else []
    )
    return render(
        request,
        "welfare/finance.html",
        {**term_context(request), "figures": figures, "row_errors": row_errors},
    )
