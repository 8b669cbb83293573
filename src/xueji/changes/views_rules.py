"""Pages of closed periods and province rules: everyone with a role in the registry sees the
nation's and their province's (the ministry every province's); the ministry (nation bureau
approver) sets the nation's and any province's, a province bureau approver its own. Each period
lists the requests it holds, with the dates they resume."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import form_submitted, refusal_as_message
from xueji.access.policy import Action
from xueji.access.scope import scope_of, today
from xueji.changes.forms import AdoptDefaultsForm, ClosedPeriodForm, LiftForm, ProvinceRulesForm
from xueji.changes.models import ClosedPeriod, operation_label
from xueji.changes.selectors_rules import (
    own_province,
    period_detail,
    periods_page,
    province_rules_list,
    province_rules_of,
)
from xueji.changes.services import (
    closed_period_add,
    closed_period_defaults_adopt,
    closed_period_edit,
    closed_period_lift,
    province_rules_save,
)
from xueji.core.errors import ServiceError
from xueji.students.views import not_found


def _periods_url(province: str) -> str:
    url = reverse("changes:periods")
    return f"{url}?province={province}" if province else url


def _add_form(request: HttpRequest, page: Any, data: Any = None) -> ClosedPeriodForm:
    scope = scope_of(request.user)
    form = ClosedPeriodForm(
        data,
        provinces=page.provinces if scope is not None and scope.level == "nation" else None,
        initial={"starts_on": today(), "province": request.GET.get("province", "")},
    )
    return form


def _periods_page(
    request: HttpRequest, province: str | None, form: ClosedPeriodForm | None, status: int = 200
) -> HttpResponse:
    page = periods_page(request.user, province)
    if page is None:
        return not_found(request)
    return render(
        request,
        "changes/periods.html",
        {
            "page": page,
            "form": form or _add_form(request, page),
            "adopt_form": AdoptDefaultsForm(),
            "today": today(),
        },
        status=status,
    )


@require_GET
@login_required
@requires(Action.CHANGE_WINDOW_VIEW)
def periods(request: HttpRequest) -> HttpResponse:
    """The nation's closed periods and the province's (the ministry chooses one), each with the
    requests it holds."""
    return _periods_page(request, request.GET.get("province") or None, None)


@require_POST
@login_required
@requires(Action.CHANGE_WINDOW_MANAGE)
def period_add(request: HttpRequest) -> HttpResponse:
    page = periods_page(request.user, None)
    if page is None:
        return not_found(request)
    form = _add_form(request, page, request.POST)

    def save() -> HttpResponse:
        period = closed_period_add(
            actor=request.user,
            operation=form.cleaned_data["operation"],
            starts_on=form.cleaned_data["starts_on"],
            ends_on=form.cleaned_data["ends_on"],
            every_year=form.cleaned_data["every_year"],
            note=form.cleaned_data["note"],
            province_code=form.cleaned_data.get("province") or None,
        )
        messages.success(
            request,
            _("%(operation)s is closed from %(start)s to %(end)s.")
            % {
                "operation": operation_label(period.operation),
                "start": period.starts_on.isoformat(),
                "end": period.ends_on.isoformat(),
            },
        )
        return redirect("changes:period", period_id=period.pk)

    province = request.POST.get("province") or own_province(scope_of(request.user))
    return form_submitted(request, form, save) or _periods_page(
        request, province or None, form, status=400
    )


@require_POST
@login_required
@requires(Action.CHANGE_WINDOW_MANAGE)
def periods_adopt(request: HttpRequest) -> HttpResponse:
    """Take the settings' periods of an operation over, to change or lift them."""
    form = AdoptDefaultsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an operation of the list."))
        return redirect("changes:periods")
    province = form.cleaned_data["province"] or ""
    try:
        adopted = closed_period_defaults_adopt(
            actor=request.user,
            operation=form.cleaned_data["operation"],
            province_code=province or None,
        )
    except ServiceError as refused:
        return refusal_as_message(request, refused) or redirect(_periods_url(province))
    messages.success(
        request,
        _("%(count)d periods of the settings are now periods of your own.")
        % {"count": len(adopted)},
    )
    return redirect(_periods_url(province))


def _period_page(
    request: HttpRequest,
    period_id: int,
    *,
    edit_form: ClosedPeriodForm | None = None,
    lift_form: LiftForm | None = None,
    status: int = 200,
) -> HttpResponse:
    detail = period_detail(request.user, period_id)
    if detail is None:
        return not_found(request)
    row = detail.row
    return render(
        request,
        "changes/period.html",
        {
            "detail": detail,
            "edit_form": edit_form
            or ClosedPeriodForm(
                editing=True,
                initial={
                    "starts_on": row.starts_on,
                    "ends_on": row.ends_on,
                    "every_year": row.every_year,
                    "note": row.note,
                },
            ),
            "lift_form": lift_form or LiftForm(),
            "today": today(),
        },
        status=status,
    )


@require_GET
@login_required
@requires(Action.CHANGE_WINDOW_VIEW)
def period(request: HttpRequest, period_id: int) -> HttpResponse:
    """One period: its days, who set it, and the requests it holds with their resume dates."""
    return _period_page(request, period_id)


def _managed_period(request: HttpRequest, period_id: int) -> ClosedPeriod | None:
    detail = period_detail(request.user, period_id)
    if detail is None:
        return None
    if not detail.may_manage:
        raise PermissionDenied(_("Your role does not allow this."))
    return detail.row


@require_POST
@login_required
@requires(Action.CHANGE_WINDOW_MANAGE)
def period_edit(request: HttpRequest, period_id: int) -> HttpResponse:
    if _managed_period(request, period_id) is None:
        return not_found(request)
    form = ClosedPeriodForm(request.POST, editing=True)

    def save() -> HttpResponse:
        closed_period_edit(
            actor=request.user,
            period_id=period_id,
            starts_on=form.cleaned_data["starts_on"],
            ends_on=form.cleaned_data["ends_on"],
            every_year=form.cleaned_data["every_year"],
            note=form.cleaned_data["note"],
        )
        messages.success(
            request, _("The period is changed; the requests it holds are dated again.")
        )
        return redirect("changes:period", period_id=period_id)

    return form_submitted(request, form, save) or _period_page(
        request, period_id, edit_form=form, status=400
    )


@require_POST
@login_required
@requires(Action.CHANGE_WINDOW_MANAGE)
def period_lift(request: HttpRequest, period_id: int) -> HttpResponse:
    row = _managed_period(request, period_id)
    if row is None:
        return not_found(request)
    form = LiftForm(request.POST)

    def save() -> HttpResponse:
        closed_period_lift(
            actor=request.user, period_id=period_id, reason=form.cleaned_data["reason"]
        )
        messages.success(
            request,
            _("The period is lifted: what it held proceeds unless another period closes it."),
        )
        return redirect(_periods_url(row.division_id[:2] if row.division_id else ""))

    return form_submitted(request, form, save) or _period_page(
        request, period_id, lift_form=form, status=400
    )


# ---- province rules ------------------------------------------------------------------------------


@require_GET
@login_required
@requires(Action.PROVINCE_RULES_VIEW)
def rules(request: HttpRequest) -> HttpResponse:
    """The rules of transfers in force in each province (the ministry) or in the own one."""
    rows = province_rules_list(request.user)
    if rows is None:
        return not_found(request)
    return render(request, "changes/rules.html", {"rows": rows})


@require_GET
@login_required
@requires(Action.PROVINCE_RULES_VIEW)
def province_rules_page(request: HttpRequest, province_code: str) -> HttpResponse:
    """A province's rules in force and every version before, with who, when and why."""
    view = province_rules_of(request.user, province_code)
    if view is None:
        return not_found(request)
    return render(request, "changes/province_rules.html", {"view": view})


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.PROVINCE_RULES_MANAGE)
def province_rules_edit(request: HttpRequest, province_code: str) -> HttpResponse:
    view = province_rules_of(request.user, province_code)
    if view is None or not view.may_manage:
        return not_found(request)
    initial = {value.name: value.value for value in view.values}
    form = ProvinceRulesForm(request.POST if request.method == "POST" else None, initial=initial)

    def save() -> HttpResponse:
        version = province_rules_save(
            actor=request.user,
            province_code=view.province.code,
            rules=form.rules(),
            reason=form.cleaned_data["reason"],
        )
        messages.success(
            request,
            _("Version %(version)d of the rules of %(province)s is in force.")
            % {"version": version.version, "province": view.province.name},
        )
        return redirect("changes:province_rules", province_code=view.province.code[:2])

    response = form_submitted(request, form, save) if request.method == "POST" else None
    return response or render(
        request,
        "changes/province_rules_edit.html",
        {"view": view, "form": form},
        status=400 if request.method == "POST" else 200,
    )
