"""Pages of attendance and dropout control: the class teacher's roll (a phone page), the card
system's CSV, the principal's morning, the area's day, hollow records and guests, the rates, the
calendar's closure days, the cases with their steps and ends, and the monthly ledger."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import first_reason, refusal_response
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.attendance import overview
from xueji.attendance.models import (
    CaseEnd,
    CaseStep,
    ClosureDay,
    Portion,
    Reason,
    StepKind,
    StepOutcome,
    Symptom,
    Trigger,
)
from xueji.attendance.rates import months_of_rates, open_cases_by_trigger
from xueji.attendance.services import (
    AbsenceIn,
    case_assign,
    case_close,
    case_confirm_dropout,
    case_step_log,
    roll_import_csv,
    roll_take,
)
from xueji.attendance.services.calendar import closure_add, closure_remove
from xueji.attendance.services.guests import guest_add, guest_end
from xueji.core.errors import FieldErrors, ServiceError
from xueji.schools.models import School
from xueji.students.views import not_found


def _day(request: HttpRequest, name: str = "day") -> datetime.date:
    text = (request.POST.get(name) or request.GET.get(name) or "").strip()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return timezone.localdate()


def _refused(request: HttpRequest, error: ServiceError) -> HttpResponse | None:
    response = refusal_response(request, error)
    if response is None:
        messages.error(request, first_reason(error))
    return response


# ---- the roll ---------------------------------------------------------------------------------


@require_GET
@login_required
@requires(Action.ATTENDANCE_TAKE)
def roll_home(request: HttpRequest) -> HttpResponse:
    """The classes whose roll the user takes, with today's state."""
    from xueji.attendance.bus_views import flags_for_classes

    day = _day(request)
    classes = overview.classes_to_take(request.user, day)
    return render(
        request,
        "attendance/roll_home.html",
        {
            "day": day,
            "classes": classes,
            # The school bus's flags of the day for the teacher's classes (raised at once).
            "bus_flags": flags_for_classes([row["class"].pk for row in classes], day),
        },
    )


def _absences_posted(request: HttpRequest) -> list[AbsenceIn]:
    found = []
    for sid in request.POST.getlist("absent"):
        found.append(
            AbsenceIn(
                sid,
                request.POST.get(f"reason-{sid}", "").strip(),
                request.POST.get(f"portion-{sid}", Portion.FULL).strip() or Portion.FULL,
                request.POST.get(f"symptom-{sid}", "").strip()
                if request.POST.get(f"reason-{sid}") == Reason.SICK
                else "",
                request.POST.get(f"note-{sid}", "").strip(),
            )
        )
    return found


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ATTENDANCE_TAKE)
def roll(request: HttpRequest, class_id: int) -> HttpResponse:
    """The class's roll for a day: everyone present unless ticked absent, with a reason."""
    school_class = overview.class_for_roll(request.user, class_id)
    if school_class is None:
        return not_found(request)
    day = _day(request)
    errors: dict[str, str] = {}
    posted: dict[str, AbsenceIn] = {}
    status = 200
    if request.method == "POST":
        items = _absences_posted(request)
        posted = {str(i.student_id): i for i in items}
        try:
            result = roll_take(
                actor=request.user,
                school_class_id=school_class.pk,
                day=day,
                absences=items,
                reason=request.POST.get("reason", ""),
            )
        except FieldErrors as found:
            errors = {name: str(errs[0].messages[0]) for name, errs in found.errors.items()}
            status = 400
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            errors = {"__all__": str(refused.message)}
            status = 400
        else:
            if result.changed:
                messages.success(
                    request,
                    _("The roll of %(day)s is saved: %(absent)s of %(enrolled)s absent all day.")
                    % {"day": day, "absent": result.absent, "enrolled": result.enrolled},
                )
            else:
                messages.info(request, _("Nothing changed."))
            for alert in result.alerts:
                messages.warning(
                    request,
                    _("Alert: %(n)s children of the class absent with %(symptom)s since %(day)s.")
                    % {
                        "n": alert.children,
                        "symptom": alert.get_symptom_display(),
                        "day": alert.first_day,
                    },
                )
            return redirect(f"{reverse('attendance:roll', args=[school_class.pk])}?day={day}")
    sheet = overview.roll_sheet(request.user, school_class, day)
    children = []
    for child in sheet.children:
        item = posted.get(child["id"])
        absence = child["absence"]
        if request.method == "POST":
            ticked = item is not None
            portion = item.portion if item else Portion.FULL
            reason = item.reason if item else ""
            symptom = item.symptom if item else ""
            note = item.note if item else ""
        else:
            ticked = absence is not None
            portion = absence.portion if absence else Portion.FULL
            reason = absence.reason if absence else ""
            symptom = absence.symptom if absence else ""
            note = absence.note if absence else ""
        children.append(
            {
                **child,
                "ticked": ticked,
                "portion": portion,
                "reason": reason,
                "symptom": symptom,
                "note": note,
                "error": errors.get(f"absence-{child['id']}", ""),
            }
        )
    context = {
        "sheet": sheet,
        "children": children,
        "errors": errors,
        "form_error": errors.get("__all__", ""),
        "portions": Portion.choices,
        "reasons": Reason.choices,
        "symptoms": Symptom.choices,
        "may_correct": may(scope_of(request.user), Action.ATTENDANCE_CORRECT),
        "previous": sheet.day - datetime.timedelta(days=1),
        "next": sheet.day + datetime.timedelta(days=1),
    }
    return render(request, "attendance/roll.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ATTENDANCE_TAKE)
def roll_import(request: HttpRequest) -> HttpResponse:
    """The card or face system's CSV (date, class_id, student_number, portion, reason, symptom,
    note): each class-day in it is taken as its complete roll; the same file twice changes
    nothing."""
    error = ""
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a CSV file.")
            status = 400
        else:
            try:
                text = upload.read().decode("utf-8-sig")
                rows = list(csv.DictReader(io.StringIO(text)))
                result = roll_import_csv(
                    actor=request.user, rows=rows, reason=request.POST.get("reason", "")
                )
            except UnicodeDecodeError:
                error = _("The file is not UTF-8 text.")
                status = 400
            except ServiceError as refused:
                response = refusal_response(request, refused)
                if response is not None:
                    return response
                error = first_reason(refused)
                if isinstance(refused, FieldErrors):
                    lines = refused.errors.get("file", [])
                    params = getattr(lines[0], "params", None) if lines else None
                    if params and params.get("lines"):
                        error += " " + "; ".join(
                            f"{line['line']}: {line['message']}" for line in params["lines"][:20]
                        )
                status = 400
            else:
                messages.success(
                    request,
                    _(
                        "%(days)s class-days read: %(changed)s changed, %(same)s unchanged, "
                        "%(absences)s absences."
                    )
                    % {
                        "days": result.class_days,
                        "changed": result.changed,
                        "same": result.unchanged,
                        "absences": result.absences,
                    },
                )
                return redirect("attendance:roll_import")
    return render(
        request,
        "attendance/roll_import.html",
        {"error": error, "columns": ",".join(_csv_columns())},
        status=status,
    )


def _csv_columns() -> list[str]:
    from xueji.attendance.services.roll import CSV_COLUMNS

    return list(CSV_COLUMNS)


# ---- the principal's morning and the area's day ----------------------------------------------


@require_GET
@login_required
@requires(Action.ATTENDANCE_VIEW)
def morning(request: HttpRequest) -> HttpResponse:
    """校长每天打开计算机: who is absent today, why, by class, against the last weeks."""
    day = _day(request)
    text = request.GET.get("school", "")
    school = overview.school_for_view(request.user, int(text) if text.isdigit() else None)
    if school is None:
        scope = scope_of(request.user)
        if scope is not None and scope.level != ScopeLevel.SCHOOL:
            return redirect(f"{reverse('attendance:area')}?day={day}")
        return not_found(request)
    from xueji.attendance.bus_views import flags_for_school

    data = overview.morning(school, day)
    return render(
        request,
        "attendance/morning.html",
        {
            "m": data,
            "bus_flags": flags_for_school(school.pk, day),
            "reasons": [Reason(r).label for r in overview.REASONS],
            "charts": {"trend": data.trend} if data.trend else {},
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1),
        },
    )


@require_GET
@login_required
@requires(Action.ATTENDANCE_VIEW)
def area(request: HttpRequest) -> HttpResponse:
    """The area's day: absence rates by school and reason; schools that took no roll."""
    day = _day(request)
    county = request.GET.get("county", "").strip()
    counties = overview.counties_visible(request.user)
    if county not in {c.code for c in counties}:
        county = ""
    data = overview.area_day(request.user, day, county=county)
    return render(
        request,
        "attendance/area.html",
        {
            "a": data,
            "day": day,
            "county": county,
            "counties": counties,
            "reasons": [Reason(r).label for r in overview.REASONS],
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1),
        },
    )


@require_GET
@login_required
@requires(Action.ATTENDANCE_VIEW)
def hollow(request: HttpRequest) -> HttpResponse:
    """Hollow records (空挂) and guests (借读) of the area."""
    day = _day(request)
    scope = scope_of(request.user)
    may_guest = may(scope, Action.ATTENDANCE_CORRECT)
    classes = overview.classes_to_take(request.user, day) if may_guest and scope is not None else []
    return render(
        request,
        "attendance/hollow.html",
        {
            "day": day,
            "may_guest": may_guest,
            "classes": classes,
            "own_school": scope.school_id if scope else None,
            **overview.hollow_and_guests(request.user, day),
        },
    )


@require_POST
@login_required
@requires(Action.ATTENDANCE_CORRECT)
def guests(request: HttpRequest) -> HttpResponse:
    """The registrar records a guest (借读) in a class of the school, or ends one."""
    try:
        if request.POST.get("end", "").isdigit():
            guest_end(actor=request.user, guest_id=int(request.POST["end"]))
            messages.success(request, _("The guest no longer attends."))
        else:
            text = request.POST.get("school_class", "")
            guest_add(
                actor=request.user,
                student_number=request.POST.get("student_number", ""),
                school_class_id=int(text) if text.isdigit() else 0,
                start_date=_day(request, "start_date"),
            )
            messages.success(request, _("The guest is recorded."))
    except ServiceError as refused:
        response = _refused(request, refused)
        if response is not None:
            return response
    return redirect("attendance:hollow")


@require_GET
@login_required
@requires(Action.ATTENDANCE_VIEW)
def rates(request: HttpRequest) -> HttpResponse:
    """Rates per county and month, reproducible for any past date, with their definitions."""
    day = _day(request, "on")
    counties = overview.counties_visible(request.user)
    county = request.GET.get("county", "").strip()
    codes = {c.code for c in counties}
    if county not in codes:
        county = counties[0].code if counties else ""
    rows = months_of_rates(county, day) if county else []
    return render(
        request,
        "attendance/rates.html",
        {
            "day": day,
            "county": county,
            "counties": counties,
            "rows": rows,
            "current": rows[-1] if rows else None,
            "by_trigger": [
                (Trigger(t).label, n) for t, n in open_cases_by_trigger(county, day).items()
            ]
            if county
            else [],
        },
    )


# ---- the calendar -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CALENDAR_MANAGE)
def calendar(request: HttpRequest) -> HttpResponse:
    """Closure days: the county's (its approver) or the own school's (its registrar)."""
    scope = scope_of(request.user)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("remove", "").isdigit():
                closure_remove(actor=request.user, closure_id=int(request.POST["remove"]))
                messages.success(request, _("The closure day is removed."))
            else:
                added = closure_add(
                    actor=request.user,
                    day=_day(request),
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, _("%(day)s is now a closure day.") % {"day": added.day})
            return redirect("attendance:calendar")
        except ServiceError as refused:
            response = _refused(request, refused)
            if response is not None:
                return response
            status = 400
    if scope is not None and scope.level == ScopeLevel.SCHOOL:
        school = School.objects.filter(pk=scope.school_id or 0).first()
        closures = ClosureDay.objects.filter(school_id=scope.school_id or 0)
        county_closures = ClosureDay.objects.filter(county_id=school.county_id if school else "")
    else:
        closures = ClosureDay.objects.filter(county_id=scope.division_code if scope else None)
        county_closures = ClosureDay.objects.none()
    return render(
        request,
        "attendance/calendar.html",
        {
            "closures": closures.order_by("-day")[:200],
            "county_closures": county_closures.order_by("-day")[:200],
            "today": timezone.localdate(),
        },
        status=status,
    )


# ---- cases --------------------------------------------------------------------------------------


@require_GET
@login_required
@requires(Action.CASE_VIEW)
def cases(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "open")
    trigger = request.GET.get("trigger", "")
    county = request.GET.get("county", "")
    found, total = overview.cases_list(request.user, state=state, trigger=trigger, county=county)
    return render(
        request,
        "attendance/cases.html",
        {
            "cases": found,
            "total": total,
            "state": state,
            "trigger": trigger,
            "county": county,
            "triggers": Trigger.choices,
            "counties": overview.counties_visible(request.user),
            "today": timezone.localdate(),
        },
    )


def _case_context(request: HttpRequest, case: Any) -> dict[str, Any]:
    scope = scope_of(request.user)
    from xueji.access.models import Membership

    people = []
    if may(scope, Action.CASE_MANAGE):
        people = list(
            Membership.objects.filter(school_id=case.school_id or 0).select_related("user")[:50]
        ) + list(Membership.objects.filter(division_id=case.county_id).select_related("user")[:50])
    return {
        "case": case,
        "steps": CaseStep.objects.filter(case=case).select_related("actor").order_by("recorded_at"),
        "step_kinds": [c for c in StepKind.choices if c[0] != StepKind.ESCALATED],
        "outcomes": StepOutcome.choices,
        "ends": CaseEnd.choices,
        "may_step": may(scope, Action.CASE_STEP) and case.state != "closed",
        "may_manage": may(scope, Action.CASE_MANAGE) and case.state != "closed",
        "may_confirm": may(scope, Action.CASE_MANAGE)
        and scope is not None
        and scope.level == ScopeLevel.COUNTY
        and case.state in ("open", "lost_contact")
        and case.student_id is not None,
        "people": people,
        "relapses": list(case.relapses.all()),
        "today": timezone.localdate(),
    }


@require_GET
@login_required
@requires(Action.CASE_VIEW)
def case(request: HttpRequest, case_id: Any) -> HttpResponse:
    found = overview.case_get(request.user, case_id)
    if found is None:
        return not_found(request)
    return render(request, "attendance/case.html", _case_context(request, found))


@require_POST
@login_required
@requires(Action.CASE_STEP)
def case_step(request: HttpRequest, case_id: Any) -> HttpResponse:
    found = overview.case_get(request.user, case_id)
    if found is None:
        return not_found(request)
    try:
        case_step_log(
            actor=request.user,
            case_id=found.pk,
            kind=request.POST.get("kind", ""),
            on=_day(request, "on"),
            outcome=request.POST.get("outcome", StepOutcome.NONE),
            committee=request.POST.get("committee", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("The step is logged."))
    except ServiceError as refused:
        response = _refused(request, refused)
        if response is not None:
            return response
    return redirect("attendance:case", found.pk)


@require_POST
@login_required
@requires(Action.CASE_MANAGE)
def case_assign_view(request: HttpRequest, case_id: Any) -> HttpResponse:
    found = overview.case_get(request.user, case_id)
    if found is None:
        return not_found(request)
    text = request.POST.get("responsible", "")
    try:
        if not text.isdigit():
            raise FieldErrors.from_validation_error(
                ValidationError(_("Choose a person."), code="required"), "responsible"
            )
        case_assign(actor=request.user, case_id=found.pk, responsible_id=int(text))
        messages.success(request, _("The responsible person is named."))
    except ServiceError as refused:
        response = _refused(request, refused)
        if response is not None:
            return response
    return redirect("attendance:case", found.pk)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CASE_MANAGE)
def case_close_view(request: HttpRequest, case_id: Any) -> HttpResponse:
    """Closing asks first: the page names the child and the end and says what it does."""
    found = overview.case_get(request.user, case_id)
    if found is None:
        return not_found(request)
    end = request.POST.get("end") or request.GET.get("end") or ""
    values = {k: request.POST.get(k, "") for k in ("decision", "evidence", "note")}
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        try:
            case_close(
                actor=request.user,
                case_id=found.pk,
                end=end,
                decision=values["decision"],
                evidence=values["evidence"],
                note=values["note"],
            )
        except ServiceError as refused:
            response = _refused(request, refused)
            if response is not None:
                return response
        else:
            messages.success(request, _("The case is closed."))
            return redirect("attendance:case", found.pk)
    return render(
        request,
        "attendance/case_close.html",
        {
            "case": found,
            "end": end,
            "end_label": CaseEnd(end).label if end in CaseEnd.values else "",
            "ends": CaseEnd.choices,
            **values,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CASE_MANAGE)
def case_dropout_view(request: HttpRequest, case_id: Any) -> HttpResponse:
    """The county confirms 辍学 after a page that says the record leaves the school's roll."""
    found = overview.case_get(request.user, case_id)
    if found is None:
        return not_found(request)
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        try:
            case_confirm_dropout(
                actor=request.user, case_id=found.pk, note=request.POST.get("note", "")
            )
        except ServiceError as refused:
            response = _refused(request, refused)
            if response is not None:
                return response
        else:
            messages.success(request, _("The dropout is confirmed; the case stays open."))
            return redirect("attendance:case", found.pk)
    return render(request, "attendance/case_dropout.html", {"case": found})


@require_GET
@login_required
@requires(Action.CASE_VIEW)
def ledger(request: HttpRequest) -> HttpResponse:
    """The county's monthly ledger (动态清零台账)."""
    counties = overview.counties_visible(request.user)
    county = request.GET.get("county", "").strip()
    if county not in {c.code for c in counties}:
        county = counties[0].code if counties else ""
    month_text = request.GET.get("month", "")
    try:
        month = datetime.date.fromisoformat(f"{month_text}-01")
    except ValueError:
        month = timezone.localdate().replace(day=1)
    rows = overview.ledger(request.user, county=county, month=month) if county else []
    totals = {
        "opened": sum(r.opened for r in rows),
        "returned": sum(r.returned for r in rows),
        "closed_other": sum(r.closed_other for r in rows),
        "open_at_end": sum(r.open_at_end for r in rows),
    }
    return render(
        request,
        "attendance/ledger.html",
        {
            "rows": rows,
            "totals": totals,
            "county": county,
            "counties": counties,
            "month": month.strftime("%Y-%m"),
        },
    )


# ---- the province's settings -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ATTENDANCE_SETTINGS)
def settings_page(request: HttpRequest) -> HttpResponse:
    """The province's dropout-control settings: each with its installation default beside it,
    refused values named by field, and the history of every save (who, when, old → new)."""
    from django.core.paginator import Paginator

    from xueji.attendance.models import ProvinceSettings, ProvinceSettingsChange
    from xueji.attendance.rules import FIELDS, installation_defaults, settings_for
    from xueji.attendance.services.settings import (
        BOUNDS,
        province_of,
        province_settings_save,
    )
    from xueji.geo.models import Division, DivisionLevel

    scope = scope_of(request.user)
    asked = (request.POST.get("province_code") or request.GET.get("province") or "").strip()
    if not asked and scope is not None and scope.level == ScopeLevel.PROVINCE:
        asked = scope.division_code or ""
    provinces = (
        Division.objects.filter(level=DivisionLevel.PROVINCE).order_by("code")
        if scope is not None and scope.level == ScopeLevel.NATION
        else Division.objects.none()
    )
    if not asked:
        return render(
            request, "attendance/settings.html", {"province": None, "provinces": provinces}
        )
    try:
        province = province_of(request.user, asked)
    except ServiceError as refused:
        response = _refused(request, refused)
        return response if response is not None else not_found(request)
    errors: dict[str, list[str]] = {}
    status = 200
    current = settings_for(province.code)
    values = {name: str(getattr(current, name)) for name in FIELDS}
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in FIELDS}
        try:
            saved = province_settings_save(
                actor=request.user, province_code=province.code, values=values
            )
        except FieldErrors as refused:
            errors = {
                name: [str(message) for e in errs for message in e.messages]
                for name, errs in refused.errors.items()
            }
            status = 400
        except ServiceError as refused:
            response = _refused(request, refused)
            if response is not None:
                return response
            status = 400
        else:
            if saved is None:
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(request, _("The settings are saved."))
            return redirect(f"{reverse('attendance:settings')}?province={province.code}")
    defaults = installation_defaults()
    labels = {
        name: getattr(ProvinceSettings._meta.get_field(name), "verbose_name", name)
        for name in FIELDS
    }
    rows = [
        {
            "name": name,
            "label": labels[name],
            "value": values[name],
            "default": defaults[name],
            "low": BOUNDS[name][0],
            "high": BOUNDS[name][1],
            "errors": errors.get(name, []),
        }
        for name in FIELDS
    ]
    history = Paginator(
        ProvinceSettingsChange.objects.filter(province=province).select_related("actor"), 20
    ).get_page(request.GET.get("page"))
    for entry in history:
        entry.lines = [  # type: ignore[attr-defined]
            {"label": labels.get(name, name), "old": pair[0], "new": pair[1]}
            for name, pair in entry.changes.items()
        ]
    return render(
        request,
        "attendance/settings.html",
        {
            "province": province,
            "provinces": provinces,
            "rows": rows,
            "saved": ProvinceSettings.objects.filter(province=province).exists(),
            "history": history,
            "other_errors": [m for k, v in errors.items() if k not in FIELDS for m in v],
        },
        status=status,
    )
