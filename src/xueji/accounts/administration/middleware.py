"""After a password somebody else chose (a new account's, a reset's), the user changes it before
anything else: every page sends them to the change-password page until it is done.

The flag is AccountProfile.must_change_password. It is read once per session and kept in the
session with the user's id (a session of another user, or one from before the flag was read,
reads it again): setting a password ends the user's sessions anyway (Django ties a session to
the password), so a session never outlives a change of the flag it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from xueji.accounts.administration.models import AccountProfile

SESSION_KEY = "xueji_must_change_password"


def must_change_password(request: HttpRequest) -> bool:
    user: Any = request.user
    kept = request.session.get(SESSION_KEY)
    if isinstance(kept, list) and len(kept) == 2 and kept[0] == user.pk:
        return bool(kept[1])
    must = AccountProfile.objects.filter(user=user, must_change_password=True).exists()
    request.session[SESSION_KEY] = [user.pk, must]
    return must


def password_changed(request: HttpRequest) -> None:
    """The user chose their own password: this session opens everything again."""
    request.session[SESSION_KEY] = [request.user.pk, False]


class PasswordChangeRequiredMiddleware:
    """Place it after the second factor's middleware: a user who must verify a code does that
    first, then changes the password."""

    EXEMPT_NAMES = frozenset(
        {
            "accounts:password_change",
            "accounts:second_factor",
            "accounts:second_factor_setup",
            "accounts:second_factor_recovery",
            "access:logout",
            "set_language",
        }
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and hasattr(request, "session")
            and not self._exempt(request)
            and must_change_password(request)
        ):
            return self._refuse(request)
        return self.get_response(request)

    def _exempt(self, request: HttpRequest) -> bool:
        if request.path.startswith(settings.STATIC_URL):
            return True
        if request.path.startswith("/api/") and request.headers.get("Authorization", "").startswith(
            "Bearer "
        ):
            return True  # a system client's token: not a person at a login page
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in self.EXEMPT_NAMES

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "code": "password_change_required",
                    "message": _("Change your password on the website first."),
                },
                status=403,
            )
        url = (
            f"{reverse('accounts:password_change')}?{urlencode({'next': request.get_full_path()})}"
        )
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
