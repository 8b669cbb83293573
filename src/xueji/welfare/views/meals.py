"""Meals pages: the programme schools, the canteen's day, the lookup of one child and day, the
week's menu on the school's notice page, the monthly claim, the programme's settings."""

from __future__ import annotations

import datetime
import uuid
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
from xueji.access.http import refusal_on_form
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import area_q, may, students_visible, today
from xueji.core.errors import ServiceError
from xueji.schools.models import School
from xueji.students.models import Student
from xueji.students.views import not_found
from xueji.welfare import meals
from xueji.welfare.models import MealCounty, MealDay, MealRate
from xueji.welfare.validation import yuan
from xueji.welfare.views.common import scope
from xueji.welfare.views.funding import xlsx_response


def _day(text: str | None) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text or "")
    except ValueError:
        return today()


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def meals_home(request: HttpRequest) -> HttpResponse:
    """The programme schools of the user's area with their meals of the month."""
    user_scope = scope(request)
    day = _day(request.GET.get("day"))
    schools = (
        School.objects.filter(area_q(user_scope, ""))
        .filter(meals.programme_schools(day))
        .order_by("code")[:200]
    )
    rows = []
    for school in schools:
        claim = meals.monthly_claim(school, day.year, day.month)
        rows.append(
            {
                "school": school,
                "days": len(claim.days),
                "meals": claim.meals,
                "amount_fen": claim.amount_fen,
            }
        )
    return render(
        request,
        "welfare/meals.html",
        {
            "rows": rows,
            "day": day,
            "rate": meals.daily_fen_on(day),
            "may_record": may(user_scope, Action.WELFARE_SCHOOL),
            "may_settings": may(user_scope, Action.WELFARE_SETTINGS),
            "school_level": user_scope is not None and user_scope.level == ScopeLevel.SCHOOL,
        },
    )


class MealDayForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    menu = forms.CharField(
        label=gettext_lazy("Menu"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    companions = forms.CharField(
        label=gettext_lazy("Teachers eating with the pupils (陪餐)"), max_length=200
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_SCHOOL)
def meal_record(request: HttpRequest) -> HttpResponse:
    """The canteen records the day: menu, 陪餐 teachers; who ate are the children present in
    the day's attendance."""
    user_scope = scope(request)
    form = MealDayForm(request.POST or None, initial={"day": today()})
    if request.method == "POST" and form.is_valid() and user_scope is not None:
        try:
            meal_day = meals.meal_day_record(
                actor=request.user,
                scope=user_scope,
                day=form.cleaned_data["day"],
                menu=form.cleaned_data["menu"],
                companions=form.cleaned_data["companions"],
            )
        except ServiceError as error:
            response = refusal_on_form(request, form, error)
            if response is not None:
                return response
        else:
            messages.success(
                request, _("The day's meals are recorded (%(day)s).") % {"day": meal_day.day}
            )
            return redirect("welfare:meal_record")
    recent = (
        MealDay.objects.filter(school_id=user_scope.school_id or 0).order_by("-day")[:20]
        if user_scope is not None and user_scope.level == ScopeLevel.SCHOOL
        else []
    )
    return render(request, "welfare/meal_record.html", {"form": form, "recent": recent})


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def meal_lookup(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """Did this child eat the subsidised meal that day, and what was served."""
    user_scope = scope(request)
    student = (
        Student.objects.filter(students_visible(user_scope, Action.STUDENT_VIEW))
        .filter(pk=student_id)
        .first()
    )
    if student is None:
        return not_found(request)
    day = _day(request.GET.get("day"))
    return render(
        request,
        "welfare/meal_lookup.html",
        {"student": student, "found": meals.meal_lookup(student.pk, day), "day": day},
    )


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def meal_week(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's notice page: the week's menu."""
    school = School.objects.filter(area_q(scope(request), "")).filter(pk=school_id).first()
    if school is None:
        return not_found(request)
    day = _day(request.GET.get("day"))
    monday = day - datetime.timedelta(days=day.weekday())
    return render(
        request,
        "welfare/meal_week.html",
        {
            "school": school,
            "days": meals.week_menu(school.pk, day),
            "monday": monday,
            "previous": monday - datetime.timedelta(days=7),
            "next": monday + datetime.timedelta(days=7),
        },
    )


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def meal_claim(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's monthly claim: meals times the day's rate, with the days and children."""
    school = School.objects.filter(area_q(scope(request), "")).filter(pk=school_id).first()
    if school is None:
        return not_found(request)
    month_text = request.GET.get("month") or f"{today():%Y-%m}"
    try:
        first = datetime.date.fromisoformat(month_text + "-01")
    except ValueError:
        first = today().replace(day=1)
    claim = meals.monthly_claim(school, first.year, first.month, with_children=True)
    students = {
        s.pk: s
        for s in Student.objects.filter(pk__in={c for d in claim.days for c in d["children"]}).only(
            "name", "number_masked"
        )
    }
    if request.GET.get("format") == "xlsx":
        from xueji.welfare.selectors import masked_name

        lines: list[list[Any]] = [
            [
                _("Day"),
                _("Menu"),
                _("Meals"),
                _("Per day (yuan)"),
                _("Amount (yuan)"),
                _("Children"),
            ]
        ]
        for d in claim.days:
            names = "、".join(masked_name(students[c].name) for c in d["children"] if c in students)
            lines.append(
                [
                    str(d["day"]),
                    d["menu"],
                    d["meals"],
                    yuan(d["daily_fen"]),
                    yuan(d["amount_fen"]),
                    names,
                ]
            )
        lines.append([_("Total"), "", claim.meals, "", yuan(claim.amount_fen), str(claim.children)])
        return xlsx_response(lines, f"{school.name} {first:%Y-%m}", _("Claim"))
    days = [
        {**d, "names": [students[c] for c in d["children"] if c in students][:60]}
        for d in claim.days
    ]
    return render(
        request,
        "welfare/meal_claim.html",
        {"school": school, "claim": claim, "days": days, "month": f"{first:%Y-%m}"},
    )


class MealCountyForm(forms.Form):
    county_code = forms.CharField(label=gettext_lazy("County code"), max_length=6, min_length=6)
    since = forms.DateField(
        label=gettext_lazy("In the programme since"), widget=forms.DateInput(attrs={"type": "date"})
    )
    urban_rural = forms.MultipleChoiceField(
        label=gettext_lazy("Urban–rural classifications"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from xueji.schools.models import UrbanRural

        cast(forms.ChoiceField, self.fields["urban_rural"]).choices = UrbanRural.choices


class MealRateForm(forms.Form):
    daily_yuan = forms.DecimalField(
        label=gettext_lazy("Subsidy per child per school day (yuan)"),
        min_value=0.01,
        max_value=100,
        decimal_places=2,
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.WELFARE_SETTINGS)
def meal_settings(request: HttpRequest) -> HttpResponse:
    """The programme's counties (a province lists its own) and the daily subsidy (ministry)."""
    user_scope = scope(request)
    nation = user_scope is not None and user_scope.level == ScopeLevel.NATION
    county_form = MealCountyForm(request.POST if request.POST.get("op") == "county" else None)
    rate_form = MealRateForm(request.POST if request.POST.get("op") == "rate" else None)
    if request.method == "POST" and user_scope is not None:
        try:
            if request.POST.get("op") == "county" and county_form.is_valid():
                data = county_form.cleaned_data
                meals.meal_county_set(
                    actor=request.user,
                    scope=user_scope,
                    county_code=data["county_code"],
                    since=data["since"],
                    urban_rural=data["urban_rural"],
                )
                messages.success(request, _("The county is in the programme."))
                return redirect("welfare:meal_settings")
            if request.POST.get("op") == "rate" and rate_form.is_valid():
                if not nation:
                    messages.error(request, _("Only the ministry sets the daily subsidy."))
                else:
                    meals.meal_rate_set(
                        actor=request.user,
                        daily_fen=int(rate_form.cleaned_data["daily_yuan"] * 100),
                        valid_from=rate_form.cleaned_data["valid_from"],
                    )
                    messages.success(request, _("The subsidy is saved."))
                    return redirect("welfare:meal_settings")
        except ServiceError as error:
            form = county_form if request.POST.get("op") == "county" else rate_form
            response = refusal_on_form(request, form, error)
            if response is not None:
                return response
    counties = MealCounty.objects.select_related("county").order_by("county_id")
    if user_scope is not None and user_scope.level == ScopeLevel.PROVINCE:
        counties = counties.filter(county__code__startswith=(user_scope.division_code or "")[:2])
    return render(
        request,
        "welfare/meal_settings.html",
        {
            "county_form": county_form,
            "rate_form": rate_form,
            "counties": counties,
            "rates": MealRate.objects.all()[:20],
            "nation": nation,
        },
    )
