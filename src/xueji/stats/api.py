"""API of statistics: the same tables as the pages, with the same suppression.

Every table is {key, title, definition, corner, columns, rows: [{label, total, cells}],
suppressed}; a cell is a count (an integer) or, when hidden, its mark: "<5" for a small count,
"×" for a figure hidden so that a small one cannot be worked out. `scope` names the area
("nation", "province:440000", "city:440300", "county:440304", "school:12", "grade:12:3",
"class:55"); it defaults to the caller's own, and an area outside it answers 404.

Besides /target, one endpoint per statistic declared in xueji.stats.registry: GET
/api/stats/<key>, its query and description those of the statistic's `Api.params`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Router

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import COMMON_ERRORS, ErrorOut, caller
from xueji.stats.registry import STATISTICS, Statistic
from xueji.stats.schemas import Scope, TargetOut, spec_of, table_out, target_out
from xueji.stats.selectors import stats_target

router = Router(tags=["statistics"])

RESPONSES: dict[int, Any] = {404: ErrorOut, **COMMON_ERRORS}


@router.get("/target", response={200: TargetOut, **RESPONSES})
@endpoint_requires(Action.STATS_VIEW)
def target_read(request: HttpRequest, scope: Scope = "") -> Any:
    """The area, its path from the caller's own, and the areas one level down."""
    return target_out(stats_target(caller(request), spec_of(scope)))


def _endpoint(statistic: Statistic) -> Callable[..., Any]:
    """The statistic's endpoint: named after it (the operation's id and summary), with the
    query parameters and the description of its `Api.params`."""
    api = statistic.api

    def endpoint(request: HttpRequest, **query: Any) -> Any:
        report = statistic.build(caller(request), **api.params(**query))
        return {
            "target": target_out(report.target),
            "tables": [table_out(t) for t in statistic.tables(report)],
            **api.answer(report),
        }

    endpoint.__name__ = endpoint.__qualname__ = statistic.name
    endpoint.__doc__ = api.params.__doc__
    request = inspect.Parameter(
        "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=HttpRequest
    )
    params = inspect.signature(api.params, eval_str=True).parameters.values()
    # django-ninja reads the query parameters from the signature.
    endpoint.__signature__ = inspect.Signature([request, *params])  # type: ignore[attr-defined]
    return endpoint


for _statistic in STATISTICS.values():
    router.get(f"/{_statistic.key}", response={200: _statistic.api.schema, **RESPONSES})(
        endpoint_requires(_statistic.action)(_endpoint(_statistic))
    )
