"""Each statistic is declared once (xueji.stats.registry): its page, URL, export route and API
endpoint all derive from the declaration."""

from __future__ import annotations

import inspect

from django.urls import resolve, reverse

from config.api import api
from xueji.access.decorators import action_of
from xueji.stats.registry import STATISTICS


def test_every_statistic_has_its_page_at_its_path_with_its_action():
    for statistic in STATISTICS.values():
        url = reverse(f"stats:{statistic.name}")
        assert url == f"/{statistic.path}"
        assert action_of(resolve(url).func) == statistic.action
        export = reverse("stats:export", args=[statistic.key, "some-table", "csv"])
        assert resolve(export).kwargs["page"] == statistic.key


def test_every_statistic_has_its_endpoint_with_its_schema_and_query():
    document = api.get_openapi_schema()
    for statistic in STATISTICS.values():
        operation = document["paths"][f"/api/stats/{statistic.key}"]["get"]
        assert operation["operationId"] == f"xueji_stats_api_{statistic.name}"
        schema = operation["responses"][200]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith(f"/{statistic.api.schema.__name__}")
        assert operation["parameters"][0]["name"] == "scope"
        assert operation["description"] == inspect.cleandoc(statistic.api.params.__doc__ or "")
