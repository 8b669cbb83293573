"""Pages of the set-up of a school year by the school's registrar: the classes of a year with
their class teachers, a class opened or removed, and last year's classes copied one grade up
after a page listing what will be made. Subject teachers are assigned on the teaching page
(xueji.scores), linked from here for the same year. The rules are the services'
(xueji.schools.classes)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import refusal_as_message, refusal_on_form, refusal_response
from xueji.access.policy import Action
from xueji.core.errors import ServiceError
from xueji.schools.classes import (
    YearSetup,
    class_open,
    class_remove,
    class_teacher_set,
    classes_copy_plan,
    classes_copy_up,
    year_setup,
)
from xueji.schools.views.classes_forms import ClassForm, ClassTeacherForm, CopyForm


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", status=404)


def _year(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def _setup_url(year: int) -> str:
    return f"{reverse('schools:classes')}?year={year}"


def _page(
    request: HttpRequest, setup: YearSetup, form: ClassForm | None = None, status: int = 200
) -> HttpResponse:
    teacher_forms = {
        c.pk: ClassTeacherForm(
            teachers=setup.class_teachers,
            initial={"class_teacher": c.class_teacher_id or ""},
            auto_id=f"id_class_{c.pk}_%s",
        )
        for c in setup.classes
    }
    return render(
        request,
        "schools/classes/setup.html",
        {
            "setup": setup,
            "form": form
            or ClassForm(
                grades=setup.grades,
                teachers=setup.class_teachers,
                initial={"grade": setup.school.first_grade},
            ),
            "rows": [(c, teacher_forms[c.pk]) for c in setup.classes],
        },
        status=status,
    )


@require_GET
@login_required
@requires(Action.CLASS_MANAGE)
def classes(request: HttpRequest) -> HttpResponse:
    """The classes of a school year (this one unless another is chosen), with their class
    teachers; the forms to open a class and to copy last year's classes one grade up."""
    setup = year_setup(request.user, _year(request.GET.get("year")))
    if setup is None:
        return _not_found(request)
    return _page(request, setup)


@require_POST
@login_required
@requires(Action.CLASS_MANAGE)
def class_add(request: HttpRequest) -> HttpResponse:
    setup = year_setup(request.user, _year(request.POST.get("year")))
    if setup is None:
        return _not_found(request)
    form = ClassForm(request.POST, grades=setup.grades, teachers=setup.class_teachers)
    if form.is_valid():
        try:
            school_class = class_open(
                actor=request.user,
                start_year=setup.year,
                grade=form.cleaned_data["grade"],
                number=form.cleaned_data["number"],
                name=form.cleaned_data["name"],
                class_teacher_id=form.cleaned_data["class_teacher"] or None,
            )
        except ServiceError as refused:
            response = refusal_on_form(request, form, refused)
            if response is not None:
                return response
        else:
            messages.success(request, _("%(name)s is opened.") % {"name": str(school_class)})
            return redirect(_setup_url(setup.year))
    return _page(request, setup, form, status=400)


@require_POST
@login_required
@requires(Action.CLASS_MANAGE)
def class_teacher(request: HttpRequest, class_id: int) -> HttpResponse:
    """Name a class's class teacher (or none)."""
    try:
        school_class = class_teacher_set(
            actor=request.user,
            class_id=class_id,
            class_teacher_id=request.POST.get("class_teacher") or None,
        )
    except ServiceError as refused:
        return refusal_as_message(request, refused) or redirect("schools:classes")
    messages.success(
        request, _("The class teacher of %(name)s is saved.") % {"name": str(school_class)}
    )
    return redirect(_setup_url(school_class.academic_year.start_year))


@require_POST
@login_required
@requires(Action.CLASS_MANAGE)
def class_delete(request: HttpRequest, class_id: int) -> HttpResponse:
    """Remove a class opened by mistake (refused once anything refers to it)."""
    year = _year(request.POST.get("year"))
    try:
        class_remove(actor=request.user, class_id=class_id)
    except ServiceError as refused:
        response = refusal_as_message(request, refused)
        return response or redirect(_setup_url(year) if year else reverse("schools:classes"))
    messages.success(request, _("The class is removed."))
    return redirect(_setup_url(year) if year else reverse("schools:classes"))


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CLASS_MANAGE)
def copy_up(request: HttpRequest) -> HttpResponse:
    """GET: the list of what copying last year's classes one grade up into the year would
    make and skip; POST (the confirmation): make them."""
    data = request.POST if request.method == "POST" else request.GET
    year = _year(data.get("year"))
    setup = year_setup(request.user, year)
    if setup is None:
        return _not_found(request)
    keep = data.get("keep_class_teachers") in ("on", "1", "true")
    try:
        plan = classes_copy_plan(actor=request.user, to_year=setup.year, keep_class_teachers=keep)
    except ServiceError as refused:
        return refusal_response(request, refused) or _not_found(request)
    problem = ""
    if request.method == "POST":
        form = CopyForm(request.POST)
        if form.is_valid():
            try:
                made = classes_copy_up(
                    actor=request.user,
                    to_year=setup.year,
                    keep_class_teachers=form.cleaned_data["keep_class_teachers"],
                    confirmed=form.cleaned_data["confirmed"],
                )
            except ServiceError as refused:
                response = refusal_response(request, refused)
                if response is not None:
                    return response
                problem = str(refused.message)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d class is made for %(year)s.",
                        "%(count)d classes are made for %(year)s.",
                        len(made),
                    )
                    % {"count": len(made), "year": f"{setup.year}-{setup.year + 1}"},
                )
                return redirect(_setup_url(setup.year))
        else:
            problem = _("Confirm the list shown.")
    return render(
        request,
        "schools/classes/copy.html",
        {"setup": setup, "plan": plan, "problem": problem},
        status=400 if problem else 200,
    )
