"""Pages of the registry: home, registration, the student record, rosters and search.

Views parse the request, call a selector or a service, and render; rules live in the services.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url

from xueji.access.decorators import requires
from xueji.access.lookups import LookupLimitReached
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action, home_page
from xueji.access.scope import may, may_act_at, may_at_school, may_register_at, scope_of
from xueji.core import codes
from xueji.core.errors import FieldErrors, NotFound, ServiceError
from xueji.core.idnumbers import g_number, mask_student_number
from xueji.schools.selectors import school_classes, school_get
from xueji.students.forms import (
    MAX_FAMILY_MEMBERS,
    FamilyMemberForm,
    ResidentIdForm,
    StudentRegistrationForm,
    apply_field_errors,
    family_formset,
    registration_error_summary,
    student_search_form,
)
from xueji.students.models import NumberKind
from xueji.students.overview import bureau_overview, school_overview
from xueji.students.selectors import (
    class_with_roster,
    student_numbers_revealed,
    student_record,
    student_search_page,
)
from xueji.students.services import (
    AgeNeedsConfirmation,
    RegisteredElsewhere,
    student_assign_resident_id,
    student_register,
    student_registration_check,
)
from xueji.students.validation import id_number_check

SCHOOLS_PER_PAGE = 50
# Students a page of the search and of a class's roster shows.
SEARCH_LIMIT = 50
ROSTER_PAGE = 50


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
    """新生注册: the form parses, the registration's rules are checked all at once (every
    problem of the form after one submit), student_register writes."""
    school_id = _registrar_school_id(request)
    classes = school_classes(request.user, school_id)
    data = request.POST if request.method == "POST" else None
    form = StudentRegistrationForm(
        data, user=request.user, classes=classes, initial={"school_class": request.GET.get("class")}
    )
    _check_id_number_on_leaving(form)
    formset = family_formset(data)
    age_warning = ""
    family_errors: list[Any] = []
    registered_elsewhere = False
    status = 200
    if data is not None:
        form_read, family_read = form.is_valid(), formset.is_valid()
        members = formset.member_forms()
        student_data = form.student_data([m.member_data() for m in members])  # type: ignore[attr-defined]
        check = student_registration_check(
            actor=request.user,
            school_class_id=form.cleaned_data.get("school_class"),
            data=student_data,
            age_confirmation=form.cleaned_data.get("age_confirmation", ""),
        )
        family_errors = apply_field_errors(form, formset, members, check.errors)
        if check.unusual_age is not None:
            age_warning = str(check.unusual_age.message)
        if form_read and family_read and check.passed:
            try:
                registration = student_register(
                    actor=request.user,
                    school_class_id=form.cleaned_data["school_class"],
                    data=student_data,
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
    error_summary = (
        []
        if data is None
        else registration_error_summary(form, formset, family_errors, age_warning)
    )
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
            "error_summary": error_summary,
            "max_members": MAX_FAMILY_MEMBERS,
            "registered_elsewhere": registered_elsewhere,
        },
        status=status,
    )


def _check_id_number_on_leaving(form: StudentRegistrationForm) -> None:
    """The ID number is checked as soon as its field (or the document type) is left: htmx posts
    the four fields it depends on to register_id_number, which answers the field with its
    reasons and fills in the birth date and the sex the number carries."""
    for name in ("id_number", "id_doc_type"):
        form.fields[name].widget.attrs.update(
            {
                "hx-post": reverse("students:register_id_number"),
                "hx-trigger": "change",
                "hx-target": "#field-id_number",
                "hx-swap": "outerHTML",
                "hx-include": ID_CHECK_INCLUDES,
                "hx-sync": "closest form:abort",
            }
        )


ID_CHECK_INCLUDES = "#id_id_doc_type, #id_id_number, #id_birth_date, [name='sex']"


@require_POST
@login_required
@requires(Action.STUDENT_REGISTER)
def register_id_number(request: HttpRequest) -> HttpResponse:
    """htmx: the ID number field checked on its own (the registration's rules and messages),
    with the birth date and the sex it carries filled in where they are still empty. Posted, so
    that the number stays out of addresses; no other record is looked at."""
    _registrar_school_id(request)
    data = request.POST.copy()
    parsed = StudentRegistrationForm(data, user=request.user, classes=[])
    parsed.is_valid()
    birth_date = parsed.cleaned_data.get("birth_date")
    sex = str(parsed.cleaned_data.get("sex") or "") or None
    doc_type = parsed.cleaned_data.get("id_doc_type") or codes.IdDocType.RESIDENT_ID.value
    check = id_number_check(doc_type, data.get("id_number", ""), birth_date=birth_date, sex=sex)
    filled = []
    if check.birth_date is not None and birth_date is None and not data.get("birth_date"):
        data["birth_date"] = check.birth_date.isoformat()
        filled.append("birth_date")
    if check.sex is not None and sex is None:
        data["sex"] = check.sex
        filled.append("sex")
    if filled:
        # Against the values the form now holds: the ones given, the ones filled in.
        check = id_number_check(
            doc_type,
            check.number,
            birth_date=birth_date or check.birth_date,
            sex=sex or check.sex,
        )
    form = StudentRegistrationForm(data, user=request.user, classes=[])
    _check_id_number_on_leaving(form)
    for name in filled:
        # Swapped in by their ids where the page has them (htmx's out-of-band swap).
        form.fields[name].widget.attrs["hx-swap-oob"] = "true"
    form.is_valid()
    for name in list(form.errors):
        del form.errors[name]
    if check.errors:
        form.errors["id_number"] = form.error_class(
            [message for error in check.errors for message in error.messages]
        )
    passed = ""
    if not check.errors and check.birth_date is not None and check.sex is not None:
        passed = _("The number reads: born %(date)s, %(sex)s.") % {
            "date": check.birth_date.isoformat(),
            "sex": codes.Sex(check.sex).label,
        }
    return render(
        request,
        "students/_id_number_check.html",
        {"form": form, "filled": filled, "passed": passed},
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
    return render(
        request,
        "students/detail.html",
        {"student": student, "record_actions": record_actions(request.user, student)},
    )


def record_actions(user: Any, student: Any) -> dict[str, bool]:
    """The record page's own buttons the user is offered: each only where the permission matrix,
    with its grant's limit, lets this user do it to this child (a class teacher, who sees the
    record but may not reveal its numbers, is not offered to)."""
    scope = scope_of(user)
    return {
        "reveal": may_act_at(scope, Action.STUDENT_REVEAL_ID, student.school),
        "formal_number": student.number_kind != NumberKind.G
        and may_at_school(scope, Action.STUDENT_ASSIGN_RESIDENT_ID, student.school_id),
    }


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
    return render(
        request,
        "students/detail.html",
        {
            "student": student,
            "numbers": numbers,
            "record_actions": record_actions(request.user, student),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.STUDENT_ASSIGN_RESIDENT_ID)
def formal_number(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """转为正式学籍号: a J- or L-numbered child who now has a resident ID gets the formal G number.
    The number is checked against the record (birth date, sex), then shown with what changes
    for the registrar to confirm; the service writes and another record holding the number is
    refused there. The old number keeps leading to the child."""
    student = student_record(request.user, student_id)
    scope = scope_of(request.user)
    if student is None or not may_at_school(
        scope, Action.STUDENT_ASSIGN_RESIDENT_ID, student.school_id
    ):
        return not_found(request)
    form = ResidentIdForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"student": student, "form": form, "confirming": False}
    status = 200
    if student.number_kind == NumberKind.G or not form.is_valid():
        return render(request, "students/formal_number.html", context, status=status)
    check = id_number_check(
        codes.IdDocType.RESIDENT_ID.value,
        form.cleaned_data["id_number"],
        birth_date=student.birth_date,
        sex=student.sex,
    )
    if check.errors:
        form.add_error("id_number", check.errors)
    elif not form.cleaned_data["confirmed"]:
        context.update(
            confirming=True,
            id_number=check.number,
            new_number=mask_student_number(g_number(check.number)),
        )
    else:
        try:
            changed = student_assign_resident_id(
                actor=request.user, student_id=student.pk, id_number=check.number
            )
        except FieldErrors as refused:
            for errors in refused.errors.values():
                form.add_error("id_number", errors)
        except ServiceError as refused:
            form.add_error("id_number", str(refused.message))
            status = 429 if isinstance(refused, LookupLimitReached) else 409
        else:
            messages.success(
                request,
                _(
                    "%(name)s now has the formal student number %(number)s; the former number "
                    "%(former)s still leads to the record."
                )
                % {
                    "name": changed.name,
                    "number": changed.number_masked,
                    "former": student.number_masked,
                },
            )
            return redirect("students:detail", student_id=student.pk)
    return render(request, "students/formal_number.html", context, status=status)


@require_GET
@login_required
@requires(Action.ROSTER_VIEW)
def roster(request: HttpRequest, class_id: int) -> HttpResponse:
    """The students placed in a class now, 50 a page (a large class has more)."""
    found = class_with_roster(request.user, class_id)
    if found is None:
        return not_found(request)
    school_class, students = found
    scope = scope_of(request.user)
    page = Paginator(students, ROSTER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "students/roster.html",
        {
            "school_class": school_class,
            "students": page.object_list,
            "total": len(students),
            "boys": sum(1 for s in students if s.sex == "1"),
            "girls": sum(1 for s in students if s.sex == "2"),
            "may_register": may_register_at(scope, school_class.school_id),
            **page_context(page),
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
            school_id=None if form.chosen_school is None else form.chosen_school.pk,
            division_code=form.division_code,
            page=data.get("page") or 1,
            limit=SEARCH_LIMIT,
        )
    # The criteria as the form read them (q, province, county, school, grade, class), for the
    # export buttons' hidden inputs and the address of a posted search.
    criteria = QueryDict(form.query_string())
    context = {
        "form": form,
        "results": None if found is None else found.students,
        "total": None if found is None else found.total,
        **page_context(None if found is None else found.page),
        "export_criteria": list(criteria.items()),
    }
    htmx = getattr(request, "htmx", None)
    # A boosted link, or htmx restoring a pushed address it has no copy of, wants the page.
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        # The county and school lists follow a new province or county: swapped in by their ids.
        for name in ("county", "school"):
            if name in form.fields:
                form.fields[name].widget.attrs["hx-swap-oob"] = "true"
        context["area_swap"] = True
        response = render(request, "students/_search_results.html", context)
        if request.method == "POST":
            address = criteria.copy()
            if found is not None and found.page.number > 1:
                address["page"] = str(found.page.number)
            push_url(response, _search_address(address))
        return response
    return render(request, "students/search.html", context)


def page_context(page: Page[Any] | None) -> dict[str, Any]:
    """What the pager (students/_pager.html) shows of a page: its numbers around the current
    one, the first and the last, with an ellipsis between."""
    if page is None:
        return {"page": None}
    return {
        "page": page,
        "page_range": list(
            page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        ),
        "ellipsis": page.paginator.ELLIPSIS,
    }


def _search_address(criteria: QueryDict) -> str:
    """The address of a posted search, for the address bar and the history: its criteria, the
    query only when it holds no digit (a name, pinyin, initials), since a student number or ID
    number may be in it, and an address ends up in the history and in access logs."""
    address = criteria.copy()
    if any(ch.isdigit() for ch in address.get("q", "")):
        del address["q"]
    query = address.urlencode()
    return reverse("students:search") + (f"?{query}" if query else "")
