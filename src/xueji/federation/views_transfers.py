"""Pages on a province's node: transfers between provinces (xueji.federation.transfers): the
list of the user's transfers with filters, the receiving school's filing with its documents, a
transfer with its chain and documents (opened on either node, audited), the decision of the
party whose step it is and the receiving school's withdrawal (each asked to confirm first). The
pages of duplicates across provinces are in views_duplicates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.decorators import requires
from xueji.access.http import evidence_download
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.changes.forms import ACCEPT
from xueji.core.errors import ServiceError, form_errors_add
from xueji.corrections.evidence import Upload
from xueji.corrections.forms import MultipleFileField, MultipleFileInput
from xueji.corrections.models import EVIDENCE_MAX_BYTES
from xueji.federation import transfers
from xueji.federation.models import CrossSide, CrossState, CrossTransfer
from xueji.federation.nodes import this_node
from xueji.schools.models import SchoolClass, academic_start_year


class FilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("All")), *list(CrossState.choices)], required=False
    )
    side = forms.ChoiceField(
        label=_("Side"), choices=[("", _("All")), *list(CrossSide.choices)], required=False
    )


class FileForm(forms.Form):
    student_number = forms.CharField(label=_("Student number"), max_length=19)
    name = forms.CharField(label=_("Name"), max_length=64)
    to_class_id = forms.TypedChoiceField(label=_("Receiving class"), coerce=int)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    # What the files hold is checked by the service (as a transfer's in one database).
    guardian_request = forms.FileField(
        label=_("The guardian's written request"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_(
            "A scan or photo of the guardian's signed request: JPG, PNG or PDF, at most 2 MB."
        ),
    )
    evidence = MultipleFileField(
        label=_("Other evidence"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
        help_text=_(
            "E.g. proof of residence or of the parents' work: JPG, PNG or PDF, at most 2 MB "
            "each, 6 MB in all with the request. The sending province's parties see them."
        ),
    )

    def __init__(self, *args: Any, school_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year = academic_start_year(timezone.localdate())
        classes = SchoolClass.objects.filter(
            school_id=school_id or 0, academic_year__start_year__gte=year
        ).order_by("academic_year__start_year", "grade", "number")
        field = self.fields["to_class_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c.pk, str(c.name)) for c in classes]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=400, widget=forms.Textarea(attrs={"rows": 2})
    )


def _upload(file: Any) -> Upload:
    # At most one byte past the limit is read: enough for the service to refuse the file.
    return Upload(name=file.name or "", content=file.read(EVIDENCE_MAX_BYTES + 1))


class DecisionForm(forms.Form):
    step = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        choices=[("1", _("Approve")), ("0", _("Reject"))], coerce=lambda v: v == "1"
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def _visible(request: HttpRequest, transfer_id: Any) -> CrossTransfer:
    try:
        return transfers.transfer_get(request.user, transfer_id)
    except ServiceError as error:
        raise Http404(str(error.message)) from error


@requires(Action.CHANGE_VIEW)
def transfer_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    rows = transfers.transfers_visible(request.user).order_by("-created_at")
    if form.is_valid():
        if form.cleaned_data["state"]:
            rows = rows.filter(state=form.cleaned_data["state"])
        if form.cleaned_data["side"]:
            rows = rows.filter(side=form.cleaned_data["side"])
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    scope = scope_of(request.user)
    return render(
        request,
        "federation/transfers.html",
        {
            "form": form,
            "page": page,
            "node": this_node(),
            "may_file": this_node().is_province and scope is not None and scope.is_school,
        },
    )


@requires(Action.CHANGE_FILE)
def transfer_new(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    school_id = scope.school_id if scope is not None else None
    form = FileForm(request.POST or None, request.FILES or None, school_id=school_id)
    if request.method == "POST" and form.is_valid():
        guardian_request = request.FILES.get("guardian_request")
        try:
            transfer = transfers.cross_transfer_file(
                actor=request.user,
                student_number=form.cleaned_data["student_number"],
                name=form.cleaned_data["name"],
                to_class_id=form.cleaned_data["to_class_id"],
                reason=form.cleaned_data["reason"],
                guardian_request=_upload(guardian_request) if guardian_request else None,
                evidence=[_upload(f) for f in request.FILES.getlist("evidence")],
            )
        except ServiceError as error:
            if error.status == 403:
                raise PermissionDenied(str(error.message)) from error
            form_errors_add(form, error)
        else:
            return redirect("federation:transfer", transfer_id=transfer.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "federation/transfer_new.html",
        {"form": form, "node": this_node()},
        status=status,
    )


def _detail(request: HttpRequest, transfer_id: Any, **extra: Any) -> HttpResponse:
    transfer = _visible(request, transfer_id)
    step = transfers.current_step(transfer)
    context = {
        "transfer": transfer,
        "steps": transfers.steps_of(transfer),
        "current": step,
        "may_decide": transfers.may_decide_now(request.user, transfer),
        "may_withdraw": transfers.may_withdraw_now(request.user, transfer),
        "evidence": list(transfer.evidence.defer("sealed")),
        "may_open_evidence": may(scope_of(request.user), Action.CHANGE_EVIDENCE_VIEW),
        "carried": transfers.carried_of(transfer.record)
        if transfer.state == CrossState.COMPLETED and transfer.side == CrossSide.RECEIVING
        else None,
        **extra,
    }
    return render(request, "federation/transfer.html", context, status=extra.pop("status", 200))


@requires(Action.CHANGE_VIEW)
def transfer_detail(request: HttpRequest, transfer_id: Any) -> HttpResponse:
    return _detail(request, transfer_id)


def _decide(request: HttpRequest, transfer_id: Any) -> HttpResponse:
    _visible(request, transfer_id)
    if request.method != "POST":
        return redirect("federation:transfer", transfer_id=transfer_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, transfer_id, decision=form, status=400)
    data = form.cleaned_data
    if request.POST.get("confirmed") != "yes":
        # Every decision is final for this step: the party confirms it first.
        return _detail(request, transfer_id, decision=form, confirming=True)
    try:
        transfers.cross_transfer_decide(
            actor=request.user,
            transfer_id=transfer_id,
            approve=data["approve"],
            reason=data["reason"],
            step_ordinal=data["step"],
        )
    except ServiceError as error:
        if error.status == 404:
            raise Http404(str(error.message)) from error
        if error.status == 403:
            raise PermissionDenied(str(error.message)) from error
        form_errors_add(form, error)
        return _detail(request, transfer_id, decision=form, status=error.status)
    return redirect("federation:transfer", transfer_id=transfer_id)


@requires(Action.CHANGE_EVIDENCE_VIEW)
def transfer_evidence(
    request: HttpRequest, transfer_id: Any, cross_evidence_id: Any
) -> HttpResponse:
    """A document of the transfer, as a download (never rendered inline by the browser)."""
    return evidence_download(
        request,
        lambda: transfers.cross_evidence_open(
            actor=request.user, transfer_id=transfer_id, evidence_id=cross_evidence_id
        ),
    )


@requires(Action.CHANGE_FILE)
def transfer_withdraw(request: HttpRequest, transfer_id: Any) -> HttpResponse:
    """The receiving school takes back its filing, asked to confirm first."""
    _visible(request, transfer_id)
    if request.method != "POST":
        return redirect("federation:transfer", transfer_id=transfer_id)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _detail(request, transfer_id, withdrawal=form, status=400)
    if request.POST.get("confirmed") != "yes":
        return _detail(request, transfer_id, withdrawal=form, withdrawing=True)
    try:
        transfers.cross_transfer_withdraw(
            actor=request.user, transfer_id=transfer_id, reason=form.cleaned_data["reason"]
        )
    except ServiceError as error:
        if error.status == 404:
            raise Http404(str(error.message)) from error
        if error.status == 403:
            raise PermissionDenied(str(error.message)) from error
        form_errors_add(form, error)
        return _detail(request, transfer_id, withdrawal=form, status=error.status)
    return redirect("federation:transfer", transfer_id=transfer_id)


@requires(Action.CHANGE_APPROVE_SCHOOL)
def school_decision(request: HttpRequest, transfer_id: Any) -> HttpResponse:
    return _decide(request, transfer_id)


@requires(Action.CHANGE_APPROVE_BUREAU)
def bureau_decision(request: HttpRequest, transfer_id: Any) -> HttpResponse:
    return _decide(request, transfer_id)
