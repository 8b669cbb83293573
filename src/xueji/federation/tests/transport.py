"""An httpx transport that hands the node's requests to the hub's views in this process (the
real views and services, on the test database), for tests without a second server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from django.test import Client, override_settings


class HubInProcess(httpx.BaseTransport):
    def __init__(self, node_settings: dict[str, Any]) -> None:
        self.client = Client()
        self.node_settings = node_settings
        self.down = False
        self.requests: list[str] = []
        # Called before the hub handles a request to this path (a race's other party).
        self.before: dict[str, Callable[[], None]] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(path)
        if self.down:
            raise httpx.ConnectError("hub down (test)", request=request)
        if path in self.before:
            self.before.pop(path)()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-xueji")}
        with override_settings(**self.node_settings):
            response = self.client.generic(
                request.method,
                path,
                data=request.read(),
                content_type="application/json",
                headers=headers,
            )
        return httpx.Response(
            response.status_code,
            content=response.content,
            headers={"content-type": "application/json"},
        )
