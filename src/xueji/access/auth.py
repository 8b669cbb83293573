"""Who is calling the API: a system client with a bearer token, or a browser with its session.

Either way the caller acts as a user, with that user's membership role and scope
(xueji.access.scope.scope_of); the token itself grants nothing beyond its owner's rights.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from xueji.access.models import ApiToken
from xueji.core.errors import ServiceError

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class NotAuthenticated(ServiceError):
    """The request carries no valid credentials (HTTP 401)."""

    status = 401


class CsrfFailed(ServiceError):
    status = 403


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; only the token's SHA-256 digest is stored.

    A request that presents a token is judged by that token alone: a bad or revoked token is
    refused even if the request also carries a session cookie.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        token = token.strip()
        found = (
            ApiToken.objects.select_related("user").filter(digest=ApiToken.digest_of(token)).first()
            if token
            else None
        )
        if found is None:
            raise NotAuthenticated("token_invalid", _("The API token is not valid."))
        if found.revoked_at is not None:
            raise NotAuthenticated("token_revoked", _("The API token has been revoked."))
        if not found.user.is_active:
            raise NotAuthenticated(
                "account_inactive", _("The account that owns this API token is disabled.")
            )
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class SessionAuth(APIKeyCookie):
    """The browser's Django session; unsafe methods must pass Django's CSRF check."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed(
                "csrf_failed",
                _("The form's security token is missing or outdated; reload the page."),
            )
        return user


bearer_auth = BearerTokenAuth()
session_auth = SessionAuth()
API_AUTH = [bearer_auth, session_auth]
