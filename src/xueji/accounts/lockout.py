"""The page django-axes shows a login that is locked out (AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    return render(
        request,
        "accounts/locked.html",
        {
            "failure_limit": get_failure_limit(request, credentials),
            "cooloff_minutes": minutes,
        },
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )
