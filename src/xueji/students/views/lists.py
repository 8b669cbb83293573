"""The lists of the registry: the home page (a school's classes, a county's schools), a
class's roster and the search of students, paged."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import push_url

from xueji.access.decorators import requires
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action, home_page
from xueji.access.scope import may, may_register_at, scope_of
from xueji.students.forms import (
    student_search_form,
)
from xueji.students.overview import bureau_overview, school_overview
from xueji.students.selectors import (
    class_with_roster,
    student_search_page,
)
from xueji.students.views.common import not_found, page_context

SCHOOLS_PER_PAGE = 50
# Students a page of the search and of a class's roster shows.
SEARCH_LIMIT = 50
ROSTER_PAGE = 50


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


def _search_address(criteria: QueryDict) -> str:
    """The address of a posted search, for the address bar and the history: its criteria, the
    query only when it holds no digit (a name, pinyin, initials), since a student number or ID
    number may be in it, and an address ends up in the history and in access logs."""
    address = criteria.copy()
    if any(ch.isdigit() for ch in address.get("q", "")):
        del address["q"]
    query = address.urlencode()
    return reverse("students:search") + (f"?{query}" if query else "")
