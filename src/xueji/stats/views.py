"""Pages of statistics (dashboard, the drill-down, grade × age × sex, breakdowns, annual
statistics, mobility) and each table as CSV or XLSX, one view per statistic declared in
xueji.stats.registry. Views parse the query string, call the statistic's selector, and render;
a wrong parameter answers 400 with the page itself, the message next to its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.access.scope import may
from xueji.core.errors import NotFound, ServiceError
from xueji.stats import definitions, exports
from xueji.stats.forms import StatsParams, parse
from xueji.stats.policy import small_cell_threshold
from xueji.stats.registry import STATISTICS, Statistic
from xueji.stats.selectors import Target, stats_target
from xueji.stats.selectors.targeting import UNKNOWN_CODE


def _tabs(target: Target) -> list[dict[str, str]]:
    """The statistics the caller may open, as the tabs over every page."""
    return [
        {"key": s.key, "label": s.tab(), "url": reverse(f"stats:{s.name}")}
        for s in STATISTICS.values()
        if may(target.scope, s.action)
    ]


def _layout(statistic: Statistic, target: Target) -> dict[str, Any]:
    """What the statistics pages' layout needs: the area, the tabs, the suppression note."""
    return {
        "page": statistic.key,
        "page_url": reverse(f"stats:{statistic.name}"),
        "target": target,
        "tabs": _tabs(target),
        "threshold": small_cell_threshold(),
        "suppression": definitions.suppression(small_cell_threshold()),
        "exact": target.exact,
    }


def _context(statistic: Statistic, report: Any, **extra: Any) -> dict[str, Any]:
    return {
        **_layout(statistic, report.target),
        "report": report,
        "tables": statistic.tables(report),
        **extra,
    }


def _invalid(
    request: HttpRequest, statistic: Statistic, form: StatsParams, status: int = 400
) -> HttpResponse:
    """The page with what was asked and, next to each wrong field, why (400, or 404 for a code
    that names no area): the area picker shows the area asked for, or the caller's own when
    that is what is wrong."""
    asked = None if form.has_error("scope") else form.cleaned_data.get("scope")
    try:
        target = stats_target(request.user, asked, statistic.action)
    except ServiceError:
        target = None
    try:
        target = target or stats_target(request.user, None, statistic.action)
    except NotFound as error:
        raise Http404(str(error.message)) from error
    shown = [form[name] for name in statistic.fields if name != "page" or form[name].errors]
    context = {
        **_layout(statistic, target),
        "title": statistic.tab(),
        "form": form,
        "fields": shown,
        "scope_value": request.GET.get("scope", ""),
    }
    return render(request, "stats/invalid.html", context, status=status)


def _built(
    request: HttpRequest, statistic: Statistic, build: Callable[..., Any], *args: Any
) -> tuple[Any, dict[str, Any]] | HttpResponse:
    """What `build` (a selector) gives for the statistic's query string, with the parsed query;
    or the page saying what is wrong with the query (400), or the answer to what lies outside
    the scope (404) or is forbidden (403)."""
    form = parse(request.GET, statistic.fields)
    if form.is_valid():
        try:
            return build(request.user, *args, **statistic.query(form.cleaned_data)), dict(
                form.cleaned_data
            )
        except NotFound as error:
            if error.code != UNKNOWN_CODE:
                raise Http404(str(error.message)) from error
            # A code that names no area: said next to the area asked for, as not found.
            form.add_error("scope", str(error.message))
            return _invalid(request, statistic, form, status=404)
        except ServiceError as error:
            if error.status == 403:
                raise PermissionDenied(str(error.message)) from error
            field = error.details.get("field")
            form.add_error(field if field in form.fields else None, str(error.message))
    return _invalid(request, statistic, form)


def _page(statistic: Statistic) -> Callable[[HttpRequest], HttpResponse]:
    """The view of a statistics page: build the report, render it with its context."""

    @require_GET
    @login_required
    @requires(statistic.action)
    def view(request: HttpRequest) -> HttpResponse:
        built = _built(request, statistic, statistic.build)
        if isinstance(built, HttpResponse):
            return built
        report, cleaned = built
        extra = statistic.context(report, cleaned)
        return render(request, statistic.template, _context(statistic, report, **extra))

    view.__doc__ = statistic.context.__doc__
    return view


# The page of each statistic, by its key (xueji.stats.urls).
PAGES = {key: _page(statistic) for key, statistic in STATISTICS.items()}


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require_GET
@login_required
@requires(Action.EXPORT)
def export(request: HttpRequest, page: str, key: str, fmt: str) -> HttpResponse:
    """One table of a page as CSV or XLSX, with the same figures (and suppression) as shown,
    saying (and named after) the area, the date or period and the dimensions it covers."""
    statistic = STATISTICS.get(page)
    if statistic is None or fmt not in CONTENT_TYPES:
        raise Http404
    built = _built(request, statistic, statistic.table, key)
    if isinstance(built, HttpResponse):
        return built
    (report, table), _cleaned = built
    note = _("Exported on %(day)s.") % {"day": timezone.localdate().isoformat()}
    covered = exports.coverage(str(report.target.label), table, statistic.covers(report))
    response: HttpResponse = exports.response(
        actor=request.user, page=page, table=table, fmt=fmt, note=note, covered=covered
    )
    return response
