"""The client address of the request being served, for audit entries written deep in services."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_client_ip: ContextVar[str | None] = ContextVar("xueji_client_ip", default=None)


def current_ip() -> str | None:
    return _client_ip.get()


class ClientAddressMiddleware:
    """Remembers REMOTE_ADDR for the duration of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _client_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)
