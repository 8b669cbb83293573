"""Pages of the registry of schools (学校登记): the list, a school's entry, registration, edits,
closing, and merging a school into another (整体并入) after a confirmation naming both schools
and the number of children. The rules are the services' (xueji.schools.registry)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from xueji.access.decorators import requires
from xueji.access.http import refusal_on_form, refusal_response
from xueji.access.policy import Action
from xueji.access.scope import may, school_in_area, scope_of
from xueji.core.errors import Conflict, FieldErrors, ServiceError
from xueji.schools.models import School
from xueji.schools.pupils import pupils_on_roll
from xueji.schools.registry import (
    merge_targets,
    school_close,
    school_create,
    school_merge,
    school_merge_plan,
    school_update,
)
from xueji.schools.selectors import SchoolState, school_record, school_registry
from xueji.schools.views.registry_forms import MergeForm, RegistryFilterForm, SchoolForm

SCHOOLS_PER_PAGE = 50


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", status=404)


def _may(request: HttpRequest, action: str, school: School) -> bool:
    scope = scope_of(request.user)
    return may(scope, action) and school_in_area(scope, school) and school.is_open


@require_GET
@login_required
@requires(Action.SCHOOL_VIEW)
def registry_list(request: HttpRequest) -> HttpResponse:
    """The schools of the user's area, by county, kind, state (open by default), name or code,
    50 a page."""
    data = request.GET if request.GET else {"state": SchoolState.OPEN}
    form = RegistryFilterForm(data, user=request.user)
    page = None
    if form.is_valid():
        schools = school_registry(
            request.user,
            county_code=form.cleaned_data["county"],
            kind=form.cleaned_data["kind"],
            state=form.cleaned_data["state"] or SchoolState.OPEN,
            query=form.cleaned_data["q"],
        )
        page = Paginator(schools, SCHOOLS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "schools/registry/list.html",
        {
            "form": form,
            "page": page,
            "may_register": may(scope_of(request.user), Action.SCHOOL_MANAGE),
        },
    )


def _form_page(
    request: HttpRequest, form: SchoolForm, school: School | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request, "schools/registry/form.html", {"form": form, "school": school}, status=status
    )


def _saved_or_form(
    request: HttpRequest, form: SchoolForm, save: Any, school: School | None = None
) -> HttpResponse:
    """Every field error of the service on its field at once; 404/403 as such."""
    form.is_valid()
    if not form.errors:
        try:
            return save(form.stated())  # type: ignore[no-any-return]
        except ServiceError as error:
            response = refusal_on_form(request, form, error)
            if response is not None:
                return response
    return _form_page(request, form, school, status=400)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.SCHOOL_MANAGE)
def registry_new(request: HttpRequest) -> HttpResponse:
    """Register a school in a county-level division of the user's area."""
    if request.method != "POST":
        return _form_page(request, SchoolForm(user=request.user))
    form = SchoolForm(request.POST, user=request.user)

    def save(stated: dict[str, Any]) -> HttpResponse:
        school = school_create(actor=request.user, **stated)
        messages.success(
            request,
            _("%(name)s (%(code)s) is registered.") % {"name": school.name, "code": school.code},
        )
        return redirect("schools:detail", school_id=school.pk)

    return _saved_or_form(request, form, save)


@require_GET
@login_required
@requires(Action.SCHOOL_VIEW)
def registry_detail(request: HttpRequest, school_id: int) -> HttpResponse:
    """A school's registry entry, its teaching points, its children on roll, and what the user
    may do with it."""
    school = school_record(request.user, school_id)
    if school is None:
        return _not_found(request)
    return render(
        request,
        "schools/registry/detail.html",
        {
            "school": school,
            "pupils": pupils_on_roll().count(school.pk),
            "points": list(school.teaching_points.order_by("code")),
            "merged": list(school.merged_schools.order_by("code")),
            "may_manage": _may(request, Action.SCHOOL_MANAGE, school),
            "may_merge": _may(request, Action.SCHOOL_MERGE, school),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.SCHOOL_MANAGE)
def registry_edit(request: HttpRequest, school_id: int) -> HttpResponse:
    """Edit an open school's entry (not its code nor its county)."""
    school = school_record(request.user, school_id)
    if school is None:
        return _not_found(request)
    if request.method != "POST":
        return _form_page(request, SchoolForm(user=request.user, school=school), school)
    form = SchoolForm(request.POST, user=request.user, school=school)

    def save(stated: dict[str, Any]) -> HttpResponse:
        school_update(actor=request.user, school_id=school.pk, **stated)
        messages.success(request, _("The school's entry is saved."))
        return redirect("schools:detail", school_id=school.pk)

    return _saved_or_form(request, form, save, school)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.SCHOOL_MANAGE)
def registry_close(request: HttpRequest, school_id: int) -> HttpResponse:
    """Close a school no child sits in any more: the page asks for confirmation, or says why
    it cannot close (how many children are still on its roll)."""
    school = school_record(request.user, school_id)
    if school is None:
        return _not_found(request)
    problem = ""
    if request.method == "POST":
        try:
            school_close(actor=request.user, school_id=school.pk)
        except ServiceError as error:
            response = refusal_response(request, error)
            if response is not None:
                return response
            problem = str(error.message)
        else:
            messages.success(request, _("%(name)s is closed.") % {"name": school.name})
            return redirect("schools:detail", school_id=school.pk)
    return render(
        request,
        "schools/registry/close.html",
        {"school": school, "pupils": pupils_on_roll().count(school.pk), "problem": problem},
        status=409 if problem else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.SCHOOL_MERGE)
def registry_merge(request: HttpRequest, school_id: int) -> HttpResponse:
    """Merge a school as a whole into another of its county: choose the other school, see
    what moves (both schools named, the number of children), confirm."""
    school = school_record(request.user, school_id)
    if school is None:
        return _not_found(request)
    targets = merge_targets(request.user, school)
    form = MergeForm(request.POST if request.method == "POST" else None, targets=targets)
    context: dict[str, Any] = {"school": school, "form": form, "targets": targets}
    if request.method != "POST" or not form.is_valid():
        return render(request, "schools/registry/merge.html", context)
    into_id = form.cleaned_data["into_school"]
    try:
        plan = school_merge_plan(request.user, school_id=school.pk, into_school_id=into_id)
    except ServiceError as error:
        return refusal_on_form(request, form, error) or render(
            request, "schools/registry/merge.html", context, status=400
        )
    context["plan"] = plan
    if not form.cleaned_data["confirm"]:
        return render(request, "schools/registry/merge_confirm.html", context)
    try:
        done = school_merge(
            actor=request.user,
            school_id=school.pk,
            into_school_id=into_id,
            pupils_confirmed=form.cleaned_data["pupils"] or 0,
        )
    except Conflict as refused:
        response = refusal_response(request, refused)
        if response is not None:
            return response
        context["problem"] = str(refused.message)
        context["plan"] = school_merge_plan(
            request.user, school_id=school.pk, into_school_id=into_id
        )
        return render(request, "schools/registry/merge_confirm.html", context, status=409)
    except FieldErrors as refused:
        context["problem"] = " ".join(
            str(e.messages[0]) for errs in refused.errors.values() for e in errs
        )
        return render(request, "schools/registry/merge_confirm.html", context, status=400)
    except ServiceError as refused:
        return refusal_response(request, refused) or _not_found(request)
    messages.success(
        request,
        ngettext(
            "%(from)s is merged into %(into)s: %(count)d child moved.",
            "%(from)s is merged into %(into)s: %(count)d children moved.",
            done.pupils,
        )
        % {"from": done.school.name, "into": done.into.name, "count": done.pupils},
    )
    return redirect("schools:detail", school_id=done.into.pk)
