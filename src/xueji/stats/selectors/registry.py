"""One table of one page's report, by its key: what the CSV and XLSX exports read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from xueji.core.errors import NotFound
from xueji.stats.selectors.annual import AnnualReport, annual_report
from xueji.stats.selectors.dashboard import Dashboard, dashboard_report
from xueji.stats.selectors.headcounts import (
    AgeReport,
    BreakdownReport,
    age_report,
    breakdown_report,
)
from xueji.stats.selectors.mobility import MobilityReport, mobility_report
from xueji.stats.tables import Table


def report_tables(report: Any) -> list[Table]:
    """Every table of a report, in page order."""
    if isinstance(report, AgeReport):
        return [report.table]
    if isinstance(report, BreakdownReport):
        return list(report.tables)
    if isinstance(report, Dashboard):
        return [t for t in (report.units, report.grades, report.kinds) if t is not None]
    if isinstance(report, AnnualReport):
        return [*report.by_kind, report.flows, report.cohorts]
    if isinstance(report, MobilityReport):
        return [report.matrix, report.net, report.migrants]
    raise TypeError(report)


def stats_table(user: Any, page: str, key: str, **params: Any) -> tuple[Any, Table]:
    """One table of one page's report, by its key, with the report (what the table covers, for
    CSV and XLSX exports)."""
    builders: dict[str, Callable[..., Any]] = {
        "grade-age-sex": age_report,
        "breakdown": breakdown_report,
        "dashboard": dashboard_report,
        "annual": annual_report,
        "mobility": mobility_report,
    }
    builder = builders.get(page)
    if builder is None:
        raise NotFound("not_found", _("There is no such table."))
    report = builder(user, **params)
    for table in report_tables(report):
        if table.key == key:
            return report, table
    raise NotFound("not_found", _("There is no such table."))
