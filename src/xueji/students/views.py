"""Pages of the registry: home, registration, the student record, rosters and search.

Views parse the request, call a selector or a service, and render; rules live in the services.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import push_url

from xueji.access.decorators import requires
from xueji.access.lookups import LookupLimitReached
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action, home_page
from xueji.access.scope import may, may_register_at, scope_of
from xueji.core.errors import FieldErrors, NotFound, ServiceError
from xueji.schools.selectors import school_classes, school_get
from xueji.students.forms import (
    MAX_FAMILY_MEMBERS,
    FamilyMemberForm,
    StudentRegistrationForm,
    apply_field_errors,
    family_formset,
    student_search_form,
)
from xueji.students.overview import bureau_overview, school_overview
from xueji.students.selectors import (
    class_with_roster,
    student_numbers_revealed,
    student_record,
    student_search_page,
)
from xueji.students.services import AgeNeedsConfirmation, RegisteredElsewhere, student_register

SCHOOLS_PER_PAGE = 50
SEARCH_LIMIT = 50


def not_found(request: HttpRequest) -> HttpResponse:
    """The 404 page, also when DEBUG is on: outside the scope, a record simply does not exist."""
    return render(request, "404.html", status=404)


@require_GET
@login_required
@requires(Action.HOME)
def home(request: HttpRequest) -> HttpResponse:
    """A school's grades and classes, or a county's or city's schools, with the students on roll;
    a province and the nation drill down from their area."""
    scope = scope_of(request.user)
    if scope is None:
        return render(request, "students/home_no_role.html")
    landing = home_page(scope.role)
    if landing is not None:
        return redirect(landing)
    if scope.level in (ScopeLevel.PROVINCE, ScopeLevel.NATION) and may(scope, Action.SCHOOL_VIEW):
        # Thousands of schools: a province's or the nation's home is the drill-down
        # 省 → 市 → 区县 → 学校 (xueji.stats), each level a table of the next one's counts.
        return redirect("stats:areas")
    if scope.is_school and scope.school_id is not None:
        overview = school_overview(request.user, scope.school_id)
        if overview is None:
            return not_found(request)
        return render(request, "students/home_school.html", {"overview": overview})
    county = request.GET.get("county", "")
    query = request.GET.get("q", "")
    bureau = bureau_overview(request.user, county_code=county, query=query)
    if bureau is None:
        return not_found(request)
    page = Paginator(bureau.schools, SCHOOLS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "students/home_bureau.html",
        {"bureau": bureau, "page": page, "county": county, "q": query},
    )


def _registrar_school_id(request: HttpRequest) -> int:
    scope = scope_of(request.user)
    if scope is None or not may(scope, Action.STUDENT_REGISTER) or scope.school_id is None:
        raise PermissionDenied(_("Only the school's registrar registers new students."))
    return scope.school_id


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.STUDENT_REGISTER)
def register(request: HttpRequest) -> HttpResponse:
    """新生注册: the form parses, student_register decides."""
    school_id = _registrar_school_id(request)
    classes = school_classes(request.user, school_id)
    data = request.POST if request.method == "POST" else None
    form = StudentRegistrationForm(
        data, user=request.user, classes=classes, initial={"school_class": request.GET.get("class")}
    )
    formset = family_formset(data)
    age_warning = ""
    family_errors: list[Any] = []
    registered_elsewhere = False
    status = 200
    form_valid = data is not None and form.is_valid()
    family_valid = data is not None and formset.is_valid()
    if form_valid and family_valid:
        members = formset.member_forms()
        try:
            registration = student_register(
                actor=request.user,
                school_class_id=form.cleaned_data["school_class"],
                data=form.student_data([m.member_data() for m in members]),  # type: ignore[attr-defined]
                start_date=form.cleaned_data["start_date"],
                age_confirmation=form.cleaned_data["age_confirmation"],
            )
        except FieldErrors as errors:
            family_errors = apply_field_errors(form, formset, members, errors.errors)
        except AgeNeedsConfirmation as warning:
            age_warning = str(warning.message)
        except NotFound as refused:
            form.add_error("school_class", str(refused.message))
        except ServiceError as refused:
            field = refused.details.get("field")
            form.add_error(field if field in form.fields else None, str(refused.message))
            # The link to file a transfer instead; a look-up over the hour's limit says so.
            registered_elsewhere = isinstance(refused, RegisteredElsewhere)
            status = 429 if isinstance(refused, LookupLimitReached) else status
        else:
            student = registration.student
            messages.success(
                request,
                _("%(name)s is registered. Student number: %(number)s.")
                % {"name": student.name, "number": student.number_masked},
            )
            return redirect("students:detail", student_id=student.pk)
    return render(
        request,
        "students/register.html",
        {
            "form": form,
            "formset": formset,
            "school": school_get(request.user, school_id),
            "has_classes": bool(classes),
            "age_warning": age_warning,
            "family_errors": family_errors,
            "max_members": MAX_FAMILY_MEMBERS,
            "registered_elsewhere": registered_elsewhere,
        },
        status=status,
    )


@require_GET
@login_required
@requires(Action.STUDENT_REGISTER)
def register_member(request: HttpRequest) -> HttpResponse:
    """htmx: one more (empty) family member row for the registration form."""
    _registrar_school_id(request)
    try:
        index = int(request.GET.get("family-TOTAL_FORMS", ""))
    except ValueError:
        return HttpResponse(status=400)
    if not 0 <= index < MAX_FAMILY_MEMBERS:
        return HttpResponse(status=204)
    member = FamilyMemberForm(prefix=f"family-{index}")
    return render(
        request,
        "students/_member_added.html",
        {"member": member, "number": index + 1, "total": index + 1},
    )


@require_GET
@login_required
@requires(Action.STUDENT_VIEW)
def student_detail(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The full record; outside the user's scope it does not exist (404)."""
    student = student_record(request.user, student_id)
    if student is None:
        return not_found(request)
    return render(request, "students/detail.html", {"student": student})


@require_http_methods(["POST"])
@login_required
@requires(Action.STUDENT_REVEAL_ID)
def reveal_numbers(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The student's numbers in full, on request; the selector audits every reveal."""
    numbers = student_numbers_revealed(request.user, student_id)
    if numbers is None:
        return not_found(request)
    if getattr(request, "htmx", False):
        return render(request, "students/_revealed_numbers.html", {"numbers": numbers})
    student = student_record(request.user, student_id)
    return render(request, "students/detail.html", {"student": student, "numbers": numbers})


@require_GET
@login_required
@requires(Action.ROSTER_VIEW)
def roster(request: HttpRequest, class_id: int) -> HttpResponse:
    """The students placed in a class now."""
    found = class_with_roster(request.user, class_id)
    if found is None:
        return not_found(request)
    school_class, students = found
    scope = scope_of(request.user)
    return render(
        request,
        "students/roster.html",
        {
            "school_class": school_class,
            "students": students,
            "boys": sum(1 for s in students if s.sex == "1"),
            "girls": sum(1 for s in students if s.sex == "2"),
            "may_register": may_register_at(scope, school_class.school_id),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.STUDENT_VIEW_LIST)
def search(request: HttpRequest) -> HttpResponse:
    """Find students by name, pinyin, initials, student number or ID number; htmx live.

    The page's form posts, so that a full ID number or student number stays out of the address,
    the browser's history and the access logs; a GET (a roster's ?class=, an old bookmark) is
    read alike."""
    data = request.POST if request.method == "POST" else request.GET
    form = student_search_form(request.user, data)
    found = None
    if form.is_valid() and form.has_criteria:
        found = student_search_page(
            request.user,
            query=form.cleaned_data["q"],
            grade=form.cleaned_data["grade"],
            class_id=form.cleaned_data.get("class_id"),
            limit=SEARCH_LIMIT,
        )
    # The criteria as the form read them (q, grade, class), for the export buttons' hidden
    # inputs and the address of a posted search.
    criteria = QueryDict(form.query_string())
    context = {
        "form": form,
        "results": None if found is None else found.students,
        "total": None if found is None else found.total,
        "export_criteria": list(criteria.items()),
        "limit": SEARCH_LIMIT,
    }
    htmx = getattr(request, "htmx", None)
    # A boosted link, or htmx restoring a pushed address it has no copy of, wants the page.
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        response = render(request, "students/_search_results.html", context)
        if request.method == "POST":
            push_url(response, _search_address(criteria))
        return response
    return render(request, "students/search.html", context)


def _search_address(criteria: QueryDict) -> str:
    """The address of a posted search, for the address bar and the history: its criteria, the
    query only when it holds no digit (a name, pinyin, initials), since a student number or ID
    number may be in it, and an address ends up in the history and in access logs."""
    address = criteria.copy()
    if any(ch.isdigit() for ch in address.get("q", "")):
        del address["q"]
    query = address.urlencode()
    return reverse("students:search") + (f"?{query}" if query else "")
