"""Funding pages: the allocation by county and school (chart, table, Excel), the flows between
areas with the transferred children, the rates with their history, the census dates."""

from __future__ import annotations

import datetime
import io
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from xueji.access.decorators import requires
from xueji.access.http import refusal_as_message, refusal_on_form
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import may
from xueji.core.errors import ServiceError
from xueji.core.exports import content_disposition, neutralise, write_xlsx
from xueji.geo.models import Division
from xueji.welfare import funding, selectors
from xueji.welfare.models import FundingRate, RateComponent, Stage
from xueji.welfare.validation import yuan
from xueji.welfare.views.common import picked_term, scope, term_context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(lines: list[list[Any]], name: str, sheet: str) -> HttpResponse:
    out = io.BytesIO()
    write_xlsx(
        out,
        ([neutralise(c) if isinstance(c, str) else c for c in line] for line in lines),
        sheet=sheet,
    )
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition(name, "xlsx")
    return response


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def funding_home(request: HttpRequest) -> HttpResponse:
    """The term's allocation of the user's area: by county (chart) and by school (table)."""
    user_scope = scope(request)
    term = picked_term(request)
    result = funding.allocation(term, user_scope) if term and user_scope else None
    if result is not None and request.GET.get("format") == "xlsx":
        stages = list(Stage)
        lines: list[list[Any]] = [
            [
                _("School code"),
                _("School"),
                _("County"),
                *[str(s.label) for s in stages],
                _("Boarders"),
                _("Amount (yuan)"),
            ]
        ]
        for s in result.schools:
            lines.append(
                [
                    s.code,
                    s.name,
                    s.county_name,
                    *[s.pupils.get(st.value, 0) for st in stages],
                    s.boarders,
                    yuan(s.amount_fen),
                ]
            )
        return xlsx_response(lines, _("Funding allocation"), _("Allocation"))
    counties = result.by_county() if result else []
    chart = {
        "kind": "bar",
        "title": _("Allocation by county (yuan)"),
        "categories": [c["name"] for c in counties],
        "series": [
            {"name": _("Amount (yuan)"), "data": [round(c["amount_fen"] / 100) for c in counties]}
        ],
    }
    return render(
        request,
        "welfare/funding.html",
        {
            **term_context(request),
            "result": result,
            "counties": counties,
            "chart": chart,
            "stages": list(Stage),
        },
    )


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def flows(request: HttpRequest) -> HttpResponse:
    """Money that moved with transferred children between the previous census and the term's."""
    user_scope = scope(request)
    term = picked_term(request)
    found = funding.portability(term, user_scope) if term and user_scope else None
    chart: dict[str, Any] = {
        "kind": "flow",
        "title": _("Money moving between provinces (yuan)"),
        "nodes": [],
        "links": [],
    }
    if found:
        level = "provinces" if found["provinces"] else "counties"
        names = sorted(
            {e["from_name"] for e in found[level]} | {e["to_name"] for e in found[level]}
        )
        chart["nodes"] = [{"name": n} for n in names]
        chart["links"] = [
            {
                "source": e["from_name"],
                "target": e["to_name"],
                "value": round(e["amount_fen"] / 100),
            }
            for e in found[level]
        ]
    return render(
        request, "welfare/flows.html", {**term_context(request), "found": found, "chart": chart}
    )


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def rates(request: HttpRequest) -> HttpResponse:
    """Every rate in force and its history (the nation's and the user's province's)."""
    user_scope = scope(request)
    rows = FundingRate.objects.select_related("province", "created_by").order_by(
        "province_id", "stage", "component", "-valid_from"
    )
    if user_scope is not None and user_scope.level not in (ScopeLevel.NATION,):
        from xueji.welfare.aid import _province_of

        province = _province_of(user_scope)
        rows = rows.filter(province__isnull=True) | rows.filter(province_id=province)
    return render(
        request,
        "welfare/rates.html",
        {"rates": rows[:300], "may_edit": may(user_scope, Action.WELFARE_SETTINGS)},
    )


class RateForm(forms.Form):
    province_code = forms.ChoiceField(label=gettext_lazy("Province"), required=False)
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), choices=Stage.choices)
    component = forms.ChoiceField(label=gettext_lazy("Component"), choices=RateComponent.choices)
    yearly_yuan = forms.DecimalField(
        label=gettext_lazy("Per pupil per year (yuan)"),
        min_value=0,
        max_value=100000,
        decimal_places=2,
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, provinces: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["province_code"]).choices = provinces


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_SETTINGS)
def rate_new(request: HttpRequest) -> HttpResponse:
    """A new dated rate: the ministry's benchmark or defaults, a province's top-up and extras."""
    user_scope = scope(request)
    if user_scope is not None and user_scope.level == ScopeLevel.NATION:
        provinces = [("", _("The nation"))] + [
            (d.code, d.name) for d in Division.objects.filter(level="province").order_by("code")
        ]
    else:
        code = (user_scope.division_code or "") if user_scope else ""
        provinces = [(d.code, d.name) for d in Division.objects.filter(code=code)]
    form = RateForm(request.POST or None, provinces=provinces)
    if request.method == "POST" and form.is_valid() and user_scope is not None:
        data = form.cleaned_data
        try:
            funding.rate_set(
                actor=request.user,
                scope=user_scope,
                province_code=data["province_code"] or None,
                stage=data["stage"],
                component=data["component"],
                yearly_fen=int(data["yearly_yuan"] * 100),
                valid_from=data["valid_from"],
                note=data["note"],
            )
        except ServiceError as error:
            response = refusal_on_form(request, form, error)
            if response is not None:
                return response
        else:
            messages.success(
                request, _("The rate is saved; the earlier rates stay in the history.")
            )
            return redirect("welfare:rates")
    return render(request, "welfare/rate_new.html", {"form": form})


class CensusForm(forms.Form):
    term = forms.IntegerField(widget=forms.HiddenInput)
    census_on = forms.DateField(
        label=gettext_lazy("Census date"), widget=forms.DateInput(attrs={"type": "date"})
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_SETTINGS)
def census(request: HttpRequest) -> HttpResponse:
    """The census date of each term (the ministry sets them; 30 September and 31 March unless
    set)."""
    user_scope = scope(request)
    nation = user_scope is not None and user_scope.level == ScopeLevel.NATION
    form = CensusForm(request.POST or None)
    if request.method == "POST":
        if not nation:
            messages.error(request, _("Only the ministry sets the census dates."))
        elif form.is_valid():
            try:
                funding.census_date_set(
                    actor=request.user,
                    term_id=form.cleaned_data["term"],
                    census_on=form.cleaned_data["census_on"],
                )
            except ServiceError as error:
                response = refusal_as_message(request, error)
                if response is not None:
                    return response
            else:
                messages.success(request, _("The census date is saved."))
                return redirect("welfare:census")
        else:
            messages.error(request, _("Give a term and a date."))
    rows = [
        {
            "term": t,
            "census_on": funding.census_date_of(t),
            "default": funding.default_census_date(t),
        }
        for t in selectors.terms()[:12]
    ]
    return render(
        request,
        "welfare/census.html",
        {"rows": rows, "nation": nation, "today": datetime.date.today()},
    )
