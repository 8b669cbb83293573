"""Every statistics page, declared once: its key, the selector that builds its report, the
action it needs, its tables, its template and page context, what its exports cover, and its API.

The pages (xueji.stats.views), their URLs and tabs (xueji.stats.urls, the layout's tabs), each
table's CSV and XLSX export (/stats/<key>/export/<table>.<fmt>) and the API endpoints
(/api/stats/<key>, xueji.stats.api) all derive from STATISTICS. A new statistic is a selector
returning a report (with its `target`), a template, and one Statistic added here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from xueji.access.policy import Action
from xueji.core.api import Year
from xueji.core.errors import NotFound, ServiceError
from xueji.stats import charts, definitions, exports
from xueji.stats.forms import iso
from xueji.stats.schemas import (
    AnnualOut,
    AreaSearch,
    AreasOut,
    DashboardOut,
    Day,
    MobilityOut,
    Scope,
    TableReportOut,
    cell_out,
    spec_of,
)
from xueji.stats.selectors import (
    DIMENSIONS,
    AgeReport,
    AnnualReport,
    AreasReport,
    BreakdownReport,
    Dashboard,
    MobilityReport,
    Target,
    age_report,
    annual_report,
    areas_report,
    breakdown_report,
    dashboard_report,
    mobility_report,
)
from xueji.stats.tables import Table
from xueji.stats.targets import DIVISION_LEVELS


@dataclass(frozen=True)
class Api:
    """A statistic's API endpoint, GET /api/stats/<key>.

    `params`' signature is the endpoint's query (its docstring the endpoint's description); it
    returns the selector's keyword arguments. `answer` gives what the schema holds besides the
    area (`target`) and the tables (`tables`), which every endpoint answers alike.
    """

    schema: type[Schema]
    params: Callable[..., dict[str, Any]]
    answer: Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class Statistic:
    """One statistics page and everything derived from it."""

    # In the export URL (/stats/<key>/export/…), the API path and the page's `page`.
    key: str
    # The URL name (stats:<name>) and the API operation's name.
    name: str
    # The page's URL.
    path: str
    # The label of the page's tab.
    tab: Callable[[], str]
    # The selector: (user, spec, …) -> a report with its `target`.
    build: Callable[..., Any]
    # The matrix action of the page, its exports' report and its endpoint.
    action: str
    # The report's tables in page order: shown, exported and answered by the API.
    tables: Callable[[Any], list[Table]]
    template: str
    # The selector's keyword arguments from the page's parsed query string.
    query: Callable[[dict[str, Any]], dict[str, Any]]
    # What the page's template needs besides the report and its tables (its docstring: the
    # view's).
    context: Callable[[Any, dict[str, Any]], dict[str, Any]]
    # The date, school year or period the report covers, as its exports say.
    covers: Callable[[Any], exports.Period]
    api: Api
    # The page's parameters besides the area, in the order its picker shows them
    # (xueji.stats.forms.StatsParams' fields): what `query` and `context` read.
    fields: tuple[str, ...] = ("date",)

    def table(self, user: Any, key: str, **params: Any) -> tuple[Any, Table]:
        """One table of the report, by its key, with the report (what the table covers, for
        CSV and XLSX exports)."""
        report = self.build(user, **params)
        for table in self.tables(report):
            if table.key == key:
                return report, table
        raise NotFound("not_found", _("There is no such table."))


def query_of(target: Target, **values: Any) -> str:
    """The query string that shows the same report again (for exports and the pickers)."""
    return urlencode({"scope": str(target.spec), **{k: v for k, v in values.items() if v}})


# ---- on a date: the dashboard, grade × age × sex, breakdowns ----------------------------------


def _on_date(cleaned: dict[str, Any]) -> dict[str, Any]:
    return {"spec": cleaned["scope"], "on": cleaned["date"]}


def _dated(report: Any, cleaned: dict[str, Any]) -> dict[str, Any]:
    return {
        "query": query_of(report.target, date=iso(cleaned["date"])),
        "date_value": report.on.isoformat(),
    }


def _as_of(report: Any) -> exports.Period:
    return exports.as_of(report.on)


def _dashboard_tables(report: Dashboard) -> list[Table]:
    return [t for t in (report.units, report.grades, report.kinds) if t is not None]


def _dashboard_page(report: Dashboard, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The morning numbers of an area (a school's own page, or a bureau's)."""
    chart_data = {"grades": charts.sex_bars(report.grades)}
    if report.units is not None:
        chart_data["units"] = charts.total_bars(report.units)
    if report.kinds is not None:
        chart_data["kinds"] = charts.pie(report.kinds)
    return {"charts": chart_data, **_dated(report, cleaned)}


def _dashboard_api(scope: Scope = "", date: Day = None) -> dict[str, Any]:
    """The morning numbers: on roll, boys, girls, 留守, 随迁, boarders, disability; the week's
    entrants, transfers in and out and dropouts; per-unit, per-grade and per-kind tables."""
    return {"spec": spec_of(scope), "on": date}


def _dashboard_answer(report: Dashboard) -> dict[str, Any]:
    def figure(f: Any) -> dict[str, Any]:
        return {
            "key": f.key,
            "label": f.label,
            "value": cell_out(f.cell),
            "definition": f.definition,
        }

    return {
        "date": report.on,
        "figures": [figure(f) for f in report.figures],
        "movement_since": report.since,
        "movement": [figure(f) for f in report.movement],
    }


def _age_page(report: AgeReport, cleaned: dict[str, Any]) -> dict[str, Any]:
    """Students by grade, age and sex, with the age pyramid and the grade × age heat map."""
    pyramid = charts.age_pyramid(report.table)
    heatmap = charts.grade_age_heatmap(report.table)
    return {"charts": {"pyramid": pyramid, "heatmap": heatmap}, **_dated(report, cleaned)}


def _age_api(scope: Scope = "", date: Day = None) -> dict[str, Any]:
    """Students on roll on a date (default today) by grade, age in completed years and sex."""
    return {"spec": spec_of(scope), "on": date}


def _breakdown_page(report: BreakdownReport, cleaned: dict[str, Any]) -> dict[str, Any]:
    """Students by ethnicity, 户口性质, 留守, 随迁, disability, boarding and kind of school."""
    return {
        "charts": {table.key: charts.sex_bars(table) for table in report.tables},
        **_dated(report, cleaned),
    }


# `dimension`: one dimension's name, or several separated by commas.
_DIMENSION_NAMES = "(" + "|".join(DIMENSIONS) + ")"
Dimensions = Annotated[str, Field(pattern=f"^({_DIMENSION_NAMES}(,{_DIMENSION_NAMES})*)?$")]


def _breakdown_api(
    scope: Scope = "", date: Day = None, dimension: Dimensions = ""
) -> dict[str, Any]:
    """Students on roll by one dimension (or all of them): ethnicity, hukou_nature,
    left_behind, migrant_child, disability, boarding, school_kind; each by sex."""
    dimensions = [d for d in dimension.split(",") if d] or None
    if dimensions and any(d not in DIMENSIONS for d in dimensions):
        raise ServiceError(
            "bad_dimension",
            _("Choose among: %(names)s.") % {"names": ", ".join(DIMENSIONS)},
            field="dimension",
        )
    return {"spec": spec_of(scope), "on": date, "dimensions": dimensions}


def _on(report: Any) -> dict[str, Any]:
    return {"date": report.on}


# ---- the drill-down (逐级汇总): the areas one level down, each leading further ------------------

AREAS_PER_PAGE = 50


def _areas_query(cleaned: dict[str, Any]) -> dict[str, Any]:
    return {"spec": cleaned["scope"], "on": cleaned["date"], "query": cleaned["q"]}


def _unit_url(spec: str) -> str:
    """A division's row leads to its own drill-down; a school's (and a class's) to its own
    statistics."""
    name = "stats:areas" if spec.split(":")[0] in DIVISION_LEVELS else "stats:dashboard"
    return f"{reverse(name)}?{urlencode({'scope': spec})}"


def _areas_page(report: AreasReport, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The areas one level down (省 → 市 → 区县 → 学校), each with its schools and students on
    roll and leading one level further; pages of 50, searched by name or code."""
    rows = Paginator(report.found, AREAS_PER_PAGE).get_page(cleaned.get("page"))
    kept = query_of(report.target, date=iso(cleaned["date"]), q=report.query)
    return {
        **_dated(report, cleaned),
        # The date and the search, kept by the pages' links and the exports.
        "query": kept,
        "rows": rows,
        "entries": [(row, _unit_url(row.link)) for row in rows.object_list],
        "coded": any(row.code for row in report.found),
        "total_row": report.table.rows[-1],
        "q": report.query,
    }


def _areas_api(scope: Scope = "", date: Day = None, q: AreaSearch = "") -> dict[str, Any]:
    """The areas one level down from the area (the provinces of the nation, the cities of a
    province, the counties of a city, the schools of a county, the classes of a school), each
    with its schools open and its students on roll by sex on `date` (default today); with `q`,
    those whose name contains it or whose code starts with it (the area's total stays the
    whole area's). Each area's `scope` opens it."""
    return {"spec": spec_of(scope), "on": date, "query": q}


def _areas_answer(report: AreasReport) -> dict[str, Any]:
    return {
        "date": report.on,
        "query": report.query,
        "areas": [
            {"label": row.label, "code": row.code, "scope": row.link} for row in report.found
        ],
    }


def _areas_covers(report: AreasReport) -> exports.Period:
    covered = exports.as_of(report.on)
    if not report.query:
        return covered
    return exports.Period(covered.name, [*covered.lines, (_("Name or code"), report.query)])


# ---- over a school year: the annual statistics (事业统计) --------------------------------------


def _annual_tables(report: AnnualReport) -> list[Table]:
    return [*report.by_kind, report.flows, report.cohorts]


def _annual_page(report: AnnualReport, cleaned: dict[str, Any]) -> dict[str, Any]:
    """事业统计 of a school year, with the definition next to each figure."""
    return {
        "charts": {table.key: charts.grade_age_heatmap(table) for table in report.by_kind}
        | {"flows": charts.total_bars(report.flows)},
        "query": query_of(report.target, year=cleaned["year"]),
        "year_value": report.start_year,
        "years": list(range(report.start_year, report.start_year - 6, -1)),
        "census_definition": definitions.census(),
        "undated_definition": definitions.undated_exits(),
    }


def _annual_api(scope: Scope = "", year: Year | None = None) -> dict[str, Any]:
    """事业统计 of the school year starting in `year` (default the current one; a year not yet
    begun is refused with 400 `bad_year`)."""
    return {"spec": spec_of(scope), "start_year": year}


def _annual_answer(report: AnnualReport) -> dict[str, Any]:
    return {
        "year": report.start_year,
        "census_date": report.census,
        "period_start": report.period_start,
        "period_end": report.period_end,
        "undated_exits": cell_out(report.undated_exits),
    }


def _school_year(report: AnnualReport) -> exports.Period:
    return exports.school_year(
        report.start_year, report.census, report.period_start, report.period_end
    )


# ---- over a period: mobility -------------------------------------------------------------------


def _mobility_tables(report: MobilityReport) -> list[Table]:
    return [report.matrix, report.net, report.migrants]


def _mobility_query(cleaned: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": cleaned["scope"],
        "start": cleaned["start"],
        "end": cleaned["end"],
        "level": cleaned["level"] or None,
    }


def _mobility_page(report: MobilityReport, cleaned: dict[str, Any]) -> dict[str, Any]:
    """Flows between counties or provinces over a period, the net inflow, 随迁子女 by origin."""
    start, end = report.start.isoformat(), report.end.isoformat()
    return {
        "charts": {
            "sankey": charts.sankey(report.links),
            "matrix": charts.matrix_heatmap(report.matrix),
            "net": charts.net_bars(report.net),
            "migrants": charts.total_bars(report.migrants),
        },
        "query": query_of(report.target, start=start, end=end, level=report.level),
        "start_value": start,
        "end_value": end,
    }


def _mobility_api(
    scope: Scope = "",
    start: Day = None,
    end: Day = None,
    level: Literal["county", "city", "province"] | None = None,
) -> dict[str, Any]:
    """Moves between counties, cities or provinces from `start` to `end` (default the last 30
    days), computed live: the matrix, net inflow, 随迁子女 by province of origin. A period that
    ends before it starts, or is longer than three years, is refused with 400 `bad_period`."""
    return {"spec": spec_of(scope), "start": start, "end": end, "level": level or None}


def _mobility_answer(report: MobilityReport) -> dict[str, Any]:
    return {
        "start": report.start,
        "end": report.end,
        "level": report.level,
        "links": [{"origin": o, "destination": d, "children": n} for o, d, n in report.links],
    }


def _period(report: MobilityReport) -> exports.Period:
    return exports.period(report.start, report.end)


# ---- the registry ------------------------------------------------------------------------------


STATISTICS: dict[str, Statistic] = {
    statistic.key: statistic
    for statistic in (
        Statistic(
            key="dashboard",
            name="dashboard",
            path="stats/",
            tab=lambda: _("Overview"),
            build=dashboard_report,
            action=Action.STATS_VIEW,
            tables=_dashboard_tables,
            template="stats/dashboard.html",
            query=_on_date,
            context=_dashboard_page,
            covers=_as_of,
            api=Api(DashboardOut, _dashboard_api, _dashboard_answer),
        ),
        # The home of a province and of the nation (students' home sends them here).
        Statistic(
            key="areas",
            name="areas",
            path="stats/areas/",
            tab=lambda: _("Drill-down"),
            build=areas_report,
            action=Action.SCHOOL_VIEW,
            tables=lambda report: [report.table],
            template="stats/areas.html",
            query=_areas_query,
            context=_areas_page,
            covers=_areas_covers,
            api=Api(AreasOut, _areas_api, _areas_answer),
            fields=("date", "q", "page"),
        ),
        Statistic(
            key="grade-age-sex",
            name="grade_age_sex",
            path="stats/grade-age-sex/",
            tab=lambda: _("Grade, age and sex"),
            build=age_report,
            action=Action.STATS_VIEW,
            tables=lambda report: [report.table],
            template="stats/grade_age_sex.html",
            query=_on_date,
            context=_age_page,
            covers=_as_of,
            api=Api(TableReportOut, _age_api, _on),
        ),
        Statistic(
            key="breakdown",
            name="breakdown",
            path="stats/breakdown/",
            tab=lambda: _("Breakdowns"),
            build=breakdown_report,
            action=Action.STATS_VIEW,
            tables=lambda report: list(report.tables),
            template="stats/breakdown.html",
            query=_on_date,
            context=_breakdown_page,
            covers=_as_of,
            api=Api(TableReportOut, _breakdown_api, _on),
        ),
        # Moves between schools: figures of a school or an area, not of a class.
        Statistic(
            key="annual",
            name="annual",
            path="stats/annual/",
            tab=lambda: _("Annual statistics"),
            build=annual_report,
            action=Action.SCHOOL_VIEW,
            tables=_annual_tables,
            template="stats/annual.html",
            query=lambda cleaned: {"spec": cleaned["scope"], "start_year": cleaned["year"]},
            context=_annual_page,
            covers=_school_year,
            api=Api(AnnualOut, _annual_api, _annual_answer),
            fields=("year",),
        ),
        Statistic(
            key="mobility",
            name="mobility",
            path="stats/mobility/",
            tab=lambda: _("Mobility"),
            build=mobility_report,
            action=Action.SCHOOL_VIEW,
            tables=_mobility_tables,
            template="stats/mobility.html",
            query=_mobility_query,
            context=_mobility_page,
            covers=_period,
            api=Api(MobilityOut, _mobility_api, _mobility_answer),
            fields=("start", "end", "level"),
        ),
    )
}
