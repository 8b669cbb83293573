"""Pages of duplicates across provinces (xueji.federation.duplicates) on a province's node: the
county's list, a pair with both provinces' answers, the decision (same child, and which province
keeps it, or not the same; asked to confirm first) and the undo of a merge (asked to confirm)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.core.errors import ServiceError, form_errors_add
from xueji.federation import duplicates
from xueji.federation.models import RemoteDuplicate, RemoteDuplicateState
from xueji.federation.nodes import this_node


class DuplicateFilter(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        choices=[("", _("All")), *list(RemoteDuplicateState.choices)],
        required=False,
    )


class DuplicateDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (RemoteDuplicateState.SAME, _("The same child")),
            (RemoteDuplicateState.NOT_SAME, _("Not the same child")),
        ],
    )
    keeps = forms.ChoiceField(
        label=_("Which province keeps the child (where it attends school)"),
        choices=[
            ("", "—"),
            (duplicates.HERE, _("This province: the child attends school here")),
            (duplicates.THERE, _("The other province: the child attends school there")),
        ],
        required=False,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@requires(Action.DUPLICATE_VIEW)
def duplicate_list(request: HttpRequest) -> HttpResponse:
    form = DuplicateFilter(request.GET or None)
    rows = duplicates.remote_duplicates_visible(request.user)
    if form.is_valid() and form.cleaned_data["state"]:
        rows = rows.filter(state=form.cleaned_data["state"])
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "federation/duplicates.html", {"form": form, "page": page})


def _pair(request: HttpRequest, remote_pair_id: Any) -> RemoteDuplicate:
    try:
        return duplicates.remote_duplicate_get(request.user, remote_pair_id)
    except ServiceError as error:
        raise Http404(str(error.message)) from error


def _context(request: HttpRequest, pair: RemoteDuplicate, form: forms.Form) -> dict[str, Any]:
    return {
        "pair": pair,
        "form": form,
        "may_decide": duplicates.may_decide_remote(request.user, pair),
        "may_undo": duplicates.may_undo_remote(request.user, pair),
        "undo_days": duplicates.UNDO_DAYS,
        "here": this_node().province,
    }


@requires(Action.DUPLICATE_VIEW)
def duplicate_detail(request: HttpRequest, remote_pair_id: Any) -> HttpResponse:
    pair = _pair(request, remote_pair_id)
    return render(
        request, "federation/duplicate.html", _context(request, pair, DuplicateDecisionForm())
    )


@requires(Action.DUPLICATE_DECIDE)
def duplicate_decision(request: HttpRequest, remote_pair_id: Any) -> HttpResponse:
    pair = _pair(request, remote_pair_id)
    if request.method != "POST":
        return redirect("federation:duplicate", remote_pair_id=pair.pk)
    form = DuplicateDecisionForm(request.POST)
    context = _context(request, pair, form)
    if not form.is_valid():
        return render(request, "federation/duplicate.html", context, status=400)
    if request.POST.get("confirmed") != "yes":
        return render(request, "federation/duplicate.html", {**context, "confirming": True})
    try:
        duplicates.remote_duplicate_decide(
            actor=request.user,
            pair=pair.pk,
            same=form.cleaned_data["decision"] == RemoteDuplicateState.SAME,
            keeps=form.cleaned_data["keeps"],
            note=form.cleaned_data["note"],
        )
    except ServiceError as error:
        form_errors_add(form, error)
        return render(request, "federation/duplicate.html", context, status=error.status)
    return redirect("federation:duplicate", remote_pair_id=pair.pk)


@requires(Action.DUPLICATE_DECIDE)
def duplicate_undo(request: HttpRequest, remote_pair_id: Any) -> HttpResponse:
    pair = _pair(request, remote_pair_id)
    if request.method != "POST":
        return redirect("federation:duplicate", remote_pair_id=pair.pk)
    form = DuplicateDecisionForm()
    context = _context(request, pair, form)
    if request.POST.get("confirmed") != "yes":
        return render(request, "federation/duplicate.html", {**context, "confirming_undo": True})
    try:
        duplicates.remote_duplicate_undo(actor=request.user, pair=pair.pk)
    except ServiceError as error:
        form_errors_add(form, error)
        return render(request, "federation/duplicate.html", context, status=error.status)
    return redirect("federation:duplicate", remote_pair_id=pair.pk)


# ---- the national bureau's ruling on a disputed pair (hub) -------------------------------------


class SettleForm(forms.Form):
    keeps = forms.ChoiceField(label=_("Ruling"))
    note = forms.CharField(
        label=_("Reason for the ruling"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, pair: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["keeps"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (
                pair.province_a,
                _("One child, kept by province %(code)s") % {"code": pair.province_a},
            ),
            (
                pair.province_b,
                _("One child, kept by province %(code)s") % {"code": pair.province_b},
            ),
            (RemoteDuplicateState.NOT_SAME, _("Not the same child")),
        ]


@requires(Action.DUPLICATE_SETTLE)
def national_duplicate_list(request: HttpRequest) -> HttpResponse:
    rows = duplicates.national_duplicates_visible(request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    forms_of = {str(pair.pk): SettleForm(pair=pair) for pair in page.object_list}
    return render(
        request,
        "federation/national_duplicates.html",
        {"page": page, "rows": [(pair, forms_of[str(pair.pk)]) for pair in page.object_list]},
    )


@requires(Action.DUPLICATE_SETTLE)
def national_duplicate_settle(request: HttpRequest, remote_pair_id: Any) -> HttpResponse:
    try:
        pair = duplicates.national_duplicate_get(request.user, remote_pair_id)
    except ServiceError as error:
        raise Http404(str(error.message)) from error
    if request.method != "POST":
        return redirect("federation:national_duplicates")
    form = SettleForm(request.POST, pair=pair)
    context: dict[str, Any] = {"pair": pair, "form": form}
    if not form.is_valid():
        return render(request, "federation/national_duplicate_settle.html", context, status=400)
    if request.POST.get("confirmed") != "yes":
        return render(
            request, "federation/national_duplicate_settle.html", {**context, "confirming": True}
        )
    keeps = form.cleaned_data["keeps"]
    try:
        duplicates.national_duplicate_settle(
            actor=request.user,
            pair=pair.pk,
            same=keeps != RemoteDuplicateState.NOT_SAME,
            keeps="" if keeps == RemoteDuplicateState.NOT_SAME else keeps,
            note=form.cleaned_data["note"],
        )
    except ServiceError as error:
        form_errors_add(form, error)
        return render(
            request, "federation/national_duplicate_settle.html", context, status=error.status
        )
    return redirect("federation:national_duplicates")
