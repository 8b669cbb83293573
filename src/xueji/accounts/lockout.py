"""Lockout of failed logins (django-axes): by account and address together, and by address alone
past a higher limit; and the page a locked-out login is shown (AXES_LOCKOUT_CALLABLE).

Axes counts each group of AXES_LOCKOUT_PARAMETERS against one AXES_FAILURE_LIMIT (the largest
count of any group wins), so it cannot give the address alone a limit of its own. A school's
staff share one address: five wrong passwords of one teacher must not lock out the others, so
axes locks the pair (account, address) at AXES_FAILURE_LIMIT, and this handler adds, from the
same AccessAttempt records, the address's failures over all accounts against
XUEJI_LOGIN_FAILURE_LIMIT_PER_ADDRESS (someone trying many accounts from one place).
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def address_failure_limit() -> int:
    return int(getattr(settings, "XUEJI_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 50))


def address_failures(request: HttpRequest) -> int:
    """Failed logins from the request's address, for any account, within the cool-off."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def address_locked(request: HttpRequest) -> bool:
    return address_failures(request) >= address_failure_limit()


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with the address's own limit. Axes compares get_failures with
    AXES_FAILURE_LIMIT both before a login (is_locked) and after a failure (to lock at once), so
    an address past its limit reports the account limit as its count: the same lock, the same
    signal and page, whichever limit was reached. A successful login clears only its own
    (account, address) records (AXES_RESET_ON_SUCCESS): logging in with one's own password does
    not wipe the address's count of guesses at other accounts."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if address_locked(request):
            return max(failures, get_failure_limit(request, credentials))
        return failures


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    by_address = address_locked(request)
    return render(
        request,
        "accounts/locked.html",
        {
            "failure_limit": address_failure_limit()
            if by_address
            else get_failure_limit(request, credentials),
            "by_address": by_address,
            "cooloff_minutes": minutes,
        },
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )
