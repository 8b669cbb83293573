"""Statistics for any area and any date, limited to what the caller may see.

Every report is computed from the placement history as it stands (no cache; the province and
nation tables read the head-count rollup the database keeps in each writing transaction, see
xueji.stats.rollup): the SQL is in
xueji.stats.sql, the cubes, suppression and tables in xueji.stats.tables, the wording of each
definition in xueji.stats.definitions. A caller asks for an area (a TargetSpec; by default the
own area) that must lie inside the own scope, else it does not exist (NotFound); figures shown to
those the suppression rule applies to (xueji.stats.policy) hide small cells.

One module, one job: `targeting` (the area a report is about), `common` and `dimensions` (what
the reports share), then one module per report: `headcounts` (grade × age × sex, breakdowns),
`dashboard`, `annual` (事业统计), `mobility`, `areas` (the drill-down). What other code imports
is named here.
"""

from xueji.stats.selectors.annual import AnnualReport, annual_report, census_date
from xueji.stats.selectors.areas import AreasReport, areas_report
from xueji.stats.selectors.dashboard import Dashboard, dashboard_report
from xueji.stats.selectors.dimensions import DIMENSIONS
from xueji.stats.selectors.headcounts import (
    AgeReport,
    BreakdownReport,
    age_report,
    breakdown_report,
)
from xueji.stats.selectors.mobility import MobilityReport, mobility_report
from xueji.stats.selectors.targeting import Target, stats_target

__all__ = [
    "DIMENSIONS",
    "AgeReport",
    "AnnualReport",
    "AreasReport",
    "BreakdownReport",
    "Dashboard",
    "MobilityReport",
    "Target",
    "age_report",
    "annual_report",
    "areas_report",
    "breakdown_report",
    "census_date",
    "dashboard_report",
    "mobility_report",
    "stats_target",
]
