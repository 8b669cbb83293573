"""Pages of statistics (dashboard, grade × age × sex, breakdowns, annual statistics, mobility)
and each table as CSV or XLSX, one view per statistic declared in xueji.stats.registry. Views
parse the query string, call the statistic's selector, and render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
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
from xueji.stats.forms import BadParameters, parse
from xueji.stats.policy import small_cell_threshold
from xueji.stats.registry import STATISTICS, Statistic
from xueji.stats.selectors import Target


def _bad(request: HttpRequest, message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _tabs(target: Target) -> list[dict[str, str]]:
    """The statistics the caller may open, as the tabs over every page."""
    return [
        {"key": s.key, "label": s.tab(), "url": reverse(f"stats:{s.name}")}
        for s in STATISTICS.values()
        if may(target.scope, s.action)
    ]


def _context(statistic: Statistic, report: Any, **extra: Any) -> dict[str, Any]:
    target: Target = report.target
    return {
        "page": statistic.key,
        "report": report,
        "target": target,
        "tabs": _tabs(target),
        "tables": statistic.tables(report),
        "threshold": small_cell_threshold(),
        "suppression": definitions.suppression(small_cell_threshold()),
        "exact": target.exact,
        **extra,
    }


def _built(
    request: HttpRequest, statistic: Statistic, build: Callable[..., Any], *args: Any
) -> tuple[Any, dict[str, Any]] | HttpResponse:
    """What `build` (a selector) gives for the statistic's query string, with the parsed query;
    or the answer to a bad query (400), to what lies outside the scope (404) or is forbidden
    (403)."""
    try:
        cleaned = parse(request.GET)
    except BadParameters as error:
        return _bad(request, str(error))
    try:
        return build(request.user, *args, **statistic.query(cleaned)), cleaned
    except NotFound as error:
        raise Http404(str(error.message)) from error
    except ServiceError as error:
        if error.status == 403:
            raise PermissionDenied(str(error.message)) from error
        return _bad(request, str(error.message))


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
