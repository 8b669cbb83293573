"""Pages of the statistics report (事业统计上报): the rounds, a unit's report with its tables, the
units below and their states, the checks, the breakdown behind a cell, and the actions
(prepare, confirm, return, revise, decide), each asking to confirm what it does."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from xueji.access.decorators import requires
from xueji.access.http import refusal_as_message, refusal_on_form
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.core.errors import ServiceError
from xueji.reporting import checks as report_checks
from xueji.reporting.exports import workbook_response
from xueji.reporting.models import ReportTable, UnitLevel, UnitState
from xueji.reporting.selectors import (
    acts_for,
    cell_children,
    cell_classes,
    changes_since,
    children_rows,
    describe_key,
    figures_of,
    live_figures,
    parse_cell,
    previous_unit,
    revisions_of,
    rounds_visible,
    shown_tables,
    total_check,
    unit_get,
    unit_name,
)
from xueji.reporting.services import (
    revision_decide,
    revision_request,
    round_open,
    unit_confirm,
    unit_prepare,
    unit_return,
)
from xueji.students.views import not_found


class RoundForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100, required=False)
    census_date = forms.DateField(
        label=gettext_lazy("Census date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    province_code = forms.CharField(
        label=gettext_lazy("Province (6-digit code; empty: the nation)"),
        max_length=6,
        required=False,
    )
    tables = forms.MultipleChoiceField(
        label=gettext_lazy("Tables"),
        choices=ReportTable.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    deadline_school = forms.DateField(
        label=gettext_lazy("Deadline for schools"), widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_county = forms.DateField(
        label=gettext_lazy("Deadline for counties"), widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_city = forms.DateField(
        label=gettext_lazy("Deadline for cities"), widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_province = forms.DateField(
        label=gettext_lazy("Deadline for provinces"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    deadline_nation = forms.DateField(
        label=gettext_lazy("Deadline for the nation (national rounds)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    threshold_percent = forms.IntegerField(
        label=gettext_lazy("Point out cells changed by more than (%)"),
        min_value=1,
        max_value=100,
        initial=10,
    )
    prefill = forms.BooleanField(
        label=gettext_lazy("Prepare every school's report from the registry now"),
        required=False,
    )


def _index(request: HttpRequest, form: RoundForm | None = None) -> HttpResponse:
    scope = scope_of(request.user)
    may_open = may(scope, Action.REPORT_ROUND_OPEN)
    if form is None and may_open:
        today = timezone.localdate()
        form = RoundForm(
            initial={
                "census_date": today,
                "tables": list(ReportTable.values),
                "province_code": scope.division_code if scope and scope.level == "province" else "",
                "threshold_percent": 10,
            }
        )
    return render(
        request,
        "reporting/index.html",
        {"rows": rounds_visible(request.user), "form": form, "may_open": may_open},
        status=400 if form is not None and form.errors else 200,
    )


@require_GET
@login_required
@requires(Action.REPORT_VIEW)
def index(request: HttpRequest) -> HttpResponse:
    return _index(request)


@require_POST
@login_required
@requires(Action.REPORT_ROUND_OPEN)
def open_round(request: HttpRequest) -> HttpResponse:
    form = RoundForm(request.POST)
    if not form.is_valid():
        return _index(request, form)
    data = form.cleaned_data
    try:
        report_round = round_open(
            actor=request.user,
            title=data["title"],
            census_date=data["census_date"],
            tables=list(data["tables"]),
            deadlines={
                level: data.get(f"deadline_{level}")
                for level in ("school", "county", "city", "province", "nation")
            },
            province_code=data["province_code"] or None,
            threshold_percent=data["threshold_percent"],
            prefill=data["prefill"],
        )
    except ServiceError as error:
        response = refusal_on_form(request, form, error)
        return response or _index(request, form)
    messages.success(
        request,
        _("The round is open: %(count)s reports wait to be confirmed.")
        % {"count": report_round.units.count()},
    )
    return redirect("reporting:index")


def _unit_context(request: HttpRequest, unit: Any) -> dict[str, Any]:
    scope = scope_of(request.user)
    own = acts_for(scope, unit)
    above = unit.parent is not None and acts_for(scope, unit.parent)
    figures = figures_of(unit.submission_id) if unit.submission_id else live_figures(unit)
    rows = children_rows(unit) if unit.level != UnitLevel.SCHOOL else []
    pending = unit.revisions.filter(state="requested").first()
    return {
        "unit": unit,
        "round": unit.round,
        "name": unit_name(unit),
        "deadline": unit.round.deadline(unit.level),
        "overdue": unit.state != UnitState.CONFIRMED
        and unit.round.deadline(unit.level) is not None
        and unit.round.deadline(unit.level) < timezone.localdate(),
        "from_snapshot": unit.submission_id is not None,
        "tables": shown_tables(unit.round, figures),
        "children": rows,
        "states": {
            state: sum(1 for r in rows if r.unit.state == state) for state in UnitState.values
        },
        "check": total_check(unit, rows) if unit.level != UnitLevel.SCHOOL else None,
        "previous": previous_unit(unit),
        "changes": changes_since(unit),
        "revisions": revisions_of(unit),
        "pending": pending,
        "may_prepare": own
        and unit.level == UnitLevel.SCHOOL
        and may(scope, Action.REPORT_PREPARE)
        and unit.state != UnitState.CONFIRMED,
        "may_confirm": own
        and may(scope, Action.REPORT_CONFIRM)
        and (
            (unit.level == UnitLevel.SCHOOL and unit.state == UnitState.PREPARED)
            or (unit.level != UnitLevel.SCHOOL and unit.state != UnitState.CONFIRMED)
        ),
        "may_return_below": own
        and may(scope, Action.REPORT_CONFIRM)
        and unit.level != UnitLevel.SCHOOL
        and unit.state != UnitState.CONFIRMED,
        "may_return": above
        and may(scope, Action.REPORT_CONFIRM)
        and unit.state == UnitState.CONFIRMED
        and unit.parent.state != UnitState.CONFIRMED,
        "may_revise": own
        and may(scope, Action.REPORT_REVISE)
        and unit.state == UnitState.CONFIRMED
        and unit.parent_id is not None
        and pending is None,
        "may_decide": above and may(scope, Action.REPORT_CONFIRM) and pending is not None,
        "may_export": may(scope, Action.EXPORT),
    }


@require_GET
@login_required
@requires(Action.REPORT_VIEW)
def unit_page(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = unit_get(request.user, unit_id)
    if unit is None:
        return not_found(request)
    return render(request, "reporting/unit.html", _unit_context(request, unit))


@require_GET
@login_required
@requires(Action.REPORT_VIEW)
def checks_page(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The checks that find the wrong class, each naming its classes and children."""
    unit = unit_get(request.user, unit_id)
    if unit is None:
        return not_found(request)
    found = report_checks.unit_checks(unit)
    sections = [
        ("changed", _("Cells changed since the previous round"), found.of("changed")),
        ("age", _("Ages impossible for the grade"), found.of("age")),
        ("unverified", _("Classes not verified in the term"), found.of("unverified")),
        (
            "anomalies",
            _("Children with open anomalies counted"),
            found.of("duplicate") + found.of("hollow"),
        ),
    ]
    return render(
        request,
        "reporting/checks.html",
        {"unit": unit, "name": unit_name(unit), "sections": sections, "skipped": found.skipped},
    )


@require_GET
@login_required
@requires(Action.REPORT_VIEW)
def cell_page(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The classes behind one cell of the report (and for a school, the children in them)."""
    unit = unit_get(request.user, unit_id)
    if unit is None:
        return not_found(request)
    query = request.GET.dict()
    if not query.get("table") and unit.round.tables:
        query["table"] = unit.round.tables[0]  # the first table's total
    cell = parse_cell(query, list(unit.round.tables))
    if cell is None:
        return not_found(request)
    classes = cell_classes(unit, cell)
    children = (
        cell_children(unit, cell, [c.school_class_id for c in classes])
        if unit.level == UnitLevel.SCHOOL
        else []
    )
    key = (
        cell["table"],
        cell.get("grade"),
        cell.get("age"),
        cell.get("sex", ""),
        cell.get("category", ""),
    )
    return render(
        request,
        "reporting/cell.html",
        {
            "unit": unit,
            "name": unit_name(unit),
            "table": ReportTable(cell["table"]).label,
            "described": describe_key(key),
            "classes": classes,
            "children": children,
            "total": sum(c.count for c in classes),
        },
    )


@require_GET
@login_required
@requires(Action.REPORT_VIEW)
def export(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The report in the layout of the national basic statistical tables: one sheet per table
    and a first sheet with the report's state and who confirmed it."""
    unit = unit_get(request.user, unit_id)
    if unit is None:
        return not_found(request)
    try:
        return workbook_response(actor=request.user, unit=unit)
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("reporting:unit", unit_id=unit_id)


def _act(request: HttpRequest, unit_id: int, done: str, act: Any) -> HttpResponse:
    if unit_get(request.user, unit_id) is None:
        return not_found(request)
    if request.POST.get("confirm") != "on":
        messages.error(request, _("Tick the box to confirm what this does."))
        return redirect("reporting:unit", unit_id=unit_id)
    try:
        act()
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("reporting:unit", unit_id=unit_id)
    messages.success(request, done)
    return redirect("reporting:unit", unit_id=unit_id)


@require_POST
@login_required
@requires(Action.REPORT_PREPARE)
def prepare(request: HttpRequest, unit_id: int) -> HttpResponse:
    return _act(
        request,
        unit_id,
        _("The school's figures are taken from the registry; the principal confirms them."),
        lambda: unit_prepare(actor=request.user, unit_id=unit_id),
    )


@require_POST
@login_required
@requires(Action.REPORT_CONFIRM)
def confirm(request: HttpRequest, unit_id: int) -> HttpResponse:
    return _act(
        request,
        unit_id,
        _("The report is confirmed and locked; the level above sees it."),
        lambda: unit_confirm(actor=request.user, unit_id=unit_id),
    )


@require_POST
@login_required
@requires(Action.REPORT_CONFIRM)
def return_unit(request: HttpRequest, unit_id: int) -> HttpResponse:
    """Send a confirmed report of the level below back, with the reason."""
    unit = unit_get(request.user, unit_id)
    if unit is None:
        return not_found(request)
    back = unit.parent_id or unit_id
    if request.POST.get("confirm") != "on":
        messages.error(request, _("Tick the box to confirm what this does."))
        return redirect("reporting:unit", unit_id=unit_id)
    try:
        unit_return(actor=request.user, unit_id=unit_id, reason=request.POST.get("reason", ""))
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("reporting:unit", unit_id=unit_id)
    messages.success(request, _("The report is returned; its unit sees the reason."))
    return redirect("reporting:unit", unit_id=back)


@require_POST
@login_required
@requires(Action.REPORT_REVISE)
def revise(request: HttpRequest, unit_id: int) -> HttpResponse:
    return _act(
        request,
        unit_id,
        _("The revision waits for the level above; the confirmed figures stay until then."),
        lambda: revision_request(
            actor=request.user, unit_id=unit_id, reason=request.POST.get("reason", "")
        ),
    )


@require_POST
@login_required
@requires(Action.REPORT_CONFIRM)
def decide(request: HttpRequest, unit_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    return _act(
        request,
        unit_id,
        _("The revision is approved: its figures are in force, the old ones are kept.")
        if approve
        else _("The revision is rejected: the confirmed figures stay in force."),
        lambda: revision_decide(
            actor=request.user,
            unit_id=unit_id,
            approve=approve,
            note=request.POST.get("note", ""),
        ),
    )
