"""Turning a service's refusal into the page's answer."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from xueji.core.errors import ServiceError


def refusal_response(request: HttpRequest, error: ServiceError) -> HttpResponse | None:
    """404 for what lies outside the scope, 403 for what the role may not do; None for any
    other refusal (the page shows it as a message)."""
    if error.status == 404:
        from xueji.students.views import not_found

        return not_found(request)
    if error.status == 403:
        raise PermissionDenied(str(error.message))
    return None
