"""Pages of statistics: dashboard, grade × age × sex, breakdowns, annual statistics, mobility,
and each table as CSV or XLSX. Views parse the query string, call one selector, and render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.core.errors import NotFound, ServiceError
from xueji.stats import charts, definitions, exports
from xueji.stats.forms import BadParameters, iso, parse
from xueji.stats.policy import small_cell_threshold
from xueji.stats.selectors import (
    AgeReport,
    AnnualReport,
    BreakdownReport,
    Dashboard,
    MobilityReport,
    Target,
    age_report,
    annual_report,
    breakdown_report,
    dashboard_report,
    mobility_report,
    stats_table,
)

PAGES = ("dashboard", "grade-age-sex", "breakdown", "annual", "mobility")


def _bad(request: HttpRequest, message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _params(page: str, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The selector's keyword arguments for a page, from the parsed query string."""
    params: dict[str, Any] = {"spec": cleaned["scope"]}
    if page in ("dashboard", "grade-age-sex", "breakdown"):
        params["on"] = cleaned["date"]
    elif page == "annual":
        params["start_year"] = cleaned["year"]
    else:
        params.update(start=cleaned["start"], end=cleaned["end"], level=cleaned["level"] or None)
    return params


def _query(target: Target, **values: Any) -> str:
    return urlencode({"scope": str(target.spec), **{k: v for k, v in values.items() if v}})


def _context(page: str, report: Any, **extra: Any) -> dict[str, Any]:
    target: Target = report.target
    return {
        "page": page,
        "report": report,
        "target": target,
        "threshold": small_cell_threshold(),
        "suppression": definitions.suppression(small_cell_threshold()),
        "exact": target.exact,
        **extra,
    }


def _built(
    request: HttpRequest, page: str, build: Callable[..., Any], *args: Any
) -> tuple[Any, dict[str, Any]] | HttpResponse:
    """What `build` (a selector) gives for the page's query string, with the parsed query; or
    the answer to a bad query (400), to what lies outside the scope (404) or is forbidden (403)."""
    try:
        cleaned = parse(request.GET)
    except BadParameters as error:
        return _bad(request, str(error))
    try:
        return build(request.user, *args, **_params(page, cleaned)), cleaned
    except NotFound as error:
        raise Http404(str(error.message)) from error
    except ServiceError as error:
        if error.status == 403:
            raise PermissionDenied(str(error.message)) from error
        return _bad(request, str(error.message))


def _page(
    page: str,
    build: Callable[..., Any],
    template: str,
    extra: Callable[[Any, dict[str, Any]], dict[str, Any]],
    action: str = Action.STATS_VIEW,
) -> Callable[[HttpRequest], HttpResponse]:
    """The view of a statistics page: `build` the report, render it with its `extra` context."""

    @require_GET
    @login_required
    @requires(action)
    def view(request: HttpRequest) -> HttpResponse:
        built = _built(request, page, build)
        if isinstance(built, HttpResponse):
            return built
        report, cleaned = built
        return render(request, template, _context(page, report, **extra(report, cleaned)))

    view.__doc__ = extra.__doc__
    return view


def _dated(report: Any, cleaned: dict[str, Any]) -> dict[str, Any]:
    return {
        "query": _query(report.target, date=iso(cleaned["date"])),
        "date_value": report.on.isoformat(),
    }


def _dashboard(report: Dashboard, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The morning numbers of an area (a school's own page, or a bureau's)."""
    chart_data = {"grades": charts.sex_bars(report.grades)}
    if report.units is not None:
        chart_data["units"] = charts.total_bars(report.units)
    if report.kinds is not None:
        chart_data["kinds"] = charts.pie(report.kinds)
    return {
        "charts": chart_data,
        **_dated(report, cleaned),
        "tables": [t for t in (report.units, report.grades, report.kinds) if t is not None],
    }


def _grade_age_sex(report: AgeReport, cleaned: dict[str, Any]) -> dict[str, Any]:
    """Students by grade, age and sex, with the age pyramid and the grade × age heat map."""
    pyramid = charts.age_pyramid(report.table)
    heatmap = charts.grade_age_heatmap(report.table)
    return {
        "charts": {"pyramid": pyramid, "heatmap": heatmap},
        **_dated(report, cleaned),
        "tables": [report.table],
    }


def _breakdown(report: BreakdownReport, cleaned: dict[str, Any]) -> dict[str, Any]:
    """Students by ethnicity, 户口性质, 留守, 随迁, disability, boarding and kind of school."""
    return {
        "charts": {table.key: charts.sex_bars(table) for table in report.tables},
        **_dated(report, cleaned),
        "tables": report.tables,
    }


def _annual(report: AnnualReport, cleaned: dict[str, Any]) -> dict[str, Any]:
    """事业统计 of a school year, with the definition next to each figure."""
    return {
        "charts": {table.key: charts.grade_age_heatmap(table) for table in report.by_kind}
        | {"flows": charts.total_bars(report.flows)},
        "query": _query(report.target, year=cleaned["year"]),
        "year_value": report.start_year,
        "years": list(range(report.start_year, report.start_year - 6, -1)),
        "census_definition": definitions.census(),
        "undated_definition": definitions.undated_exits(),
        "tables": [*report.by_kind, report.flows, report.cohorts],
    }


def _mobility(report: MobilityReport, cleaned: dict[str, Any]) -> dict[str, Any]:
    """Flows between counties or provinces over a period, the net inflow, 随迁子女 by origin."""
    start, end = report.start.isoformat(), report.end.isoformat()
    return {
        "charts": {
            "sankey": charts.sankey(report.links),
            "matrix": charts.matrix_heatmap(report.matrix),
            "net": charts.net_bars(report.net),
            "migrants": charts.total_bars(report.migrants),
        },
        "query": _query(report.target, start=start, end=end, level=report.level),
        "start_value": start,
        "end_value": end,
        "tables": [report.matrix, report.net, report.migrants],
    }


dashboard = _page("dashboard", dashboard_report, "stats/dashboard.html", _dashboard)
grade_age_sex = _page("grade-age-sex", age_report, "stats/grade_age_sex.html", _grade_age_sex)
breakdown = _page("breakdown", breakdown_report, "stats/breakdown.html", _breakdown)
# Moves between schools: figures of a school or an area, not of a class.
annual = _page("annual", annual_report, "stats/annual.html", _annual, Action.SCHOOL_VIEW)
mobility = _page("mobility", mobility_report, "stats/mobility.html", _mobility, Action.SCHOOL_VIEW)


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
    if page not in PAGES or fmt not in CONTENT_TYPES:
        raise Http404
    built = _built(request, page, stats_table, page, key)
    if isinstance(built, HttpResponse):
        return built
    (report, table), _cleaned = built
    note = _("Exported on %(day)s.") % {"day": timezone.localdate().isoformat()}
    response: HttpResponse = exports.response(
        actor=request.user, page=page, table=table, fmt=fmt, note=note, report=report
    )
    return response
