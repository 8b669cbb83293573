"""Security headers and the content security policy; the idle session timeout; the second factor
required of bureau, auditor and administrator accounts."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from xueji.accounts.policy import idle_seconds, needs_second_factor
from xueji.accounts.second_factor.selectors import has_second_factor
from xueji.audit.context import note_refusal

# Only this site's own files: scripts (htmx, ECharts and ours) and styles are static files, no
# inline script, style or event handler anywhere; no plugins; no framing; forms post here.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

LAST_ACTIVITY_KEY = "xueji_last_activity"
ACTIVITY_SALT = "xueji.accounts.activity"


def clock() -> float:
    """Now, in seconds (the tests move it)."""
    return time.time()


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a whole page, not into the fragment it asked for."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _with_next(url: str, request: HttpRequest) -> str:
    return f"{url}?{urlencode({'next': request.get_full_path()})}"


class SecurityHeadersMiddleware:
    """CSP and the headers Django's SecurityMiddleware does not set. Django 5.2 has no CSP of its
    own; a view that needs another policy sets the header itself and keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Pages with children's records are not kept by the browser or proxies.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def activity_cookie_name() -> str:
    return f"{settings.SESSION_COOKIE_NAME}-activity"


def _session_tag(request: HttpRequest) -> str:
    """Ties the activity stamp to one session (not the session key itself: a digest of it)."""
    key = request.session.session_key or ""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _cookie_activity(request: HttpRequest) -> float | None:
    """The time of this session's last response, from its signed activity cookie; None when
    the cookie is absent, forged, or another session's."""
    value = request.COOKIES.get(activity_cookie_name())
    if not value:
        return None
    try:
        tag, stamp = signing.Signer(salt=ACTIVITY_SALT).unsign(value).split(":", 1)
        return float(stamp) if tag == _session_tag(request) else None
    except (signing.BadSignature, ValueError):
        return None


class IdleTimeoutMiddleware:
    """Signs out a session left idle longer than XUEJI_SESSION_IDLE_MINUTES, to the request:
    idle is the time since the last response to the session. Place it after
    AuthenticationMiddleware and MessageMiddleware.

    The time of the last response travels in a cookie signed by the server (like the session's
    own cookie, HttpOnly and Secure in production), sent with every response to a signed-in
    user: exact, and no write of the session per request. The client can only make the rule
    stricter: it cannot sign a later time, an older cookie or none falls back to the time kept
    in the session. The session keeps the time once (the first response), and on each request
    that comes without a valid cookie (a client that keeps only the session's cookie), so that
    such a client is timed exactly too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = clock()
            from_cookie = _cookie_activity(request)
            kept = request.session.get(LAST_ACTIVITY_KEY)
            known = [t for t in (from_cookie, kept) if isinstance(t, int | float)]
            if known and now - max(known) > idle_seconds():
                response = self._sign_out(request)
                self._stamp(request, response)
                return response
            if from_cookie is None:
                request.session[LAST_ACTIVITY_KEY] = now
        response = self.get_response(request)
        self._stamp(request, response)
        return response

    def _stamp(self, request: HttpRequest, response: HttpResponse) -> None:
        """The activity cookie of a signed-in user's response; removed once signed out."""
        user = getattr(request, "user", None)
        name = activity_cookie_name()
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None:
            now = clock()
            if LAST_ACTIVITY_KEY not in session:
                session[LAST_ACTIVITY_KEY] = now  # the fallback, written once (at login)
            value = signing.Signer(salt=ACTIVITY_SALT).sign(f"{_session_tag(request)}:{now:.3f}")
            response.set_cookie(
                name,
                value,
                path=settings.SESSION_COOKIE_PATH,
                domain=settings.SESSION_COOKIE_DOMAIN,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
        elif name in request.COOKIES:
            response.delete_cookie(
                name,
                path=settings.SESSION_COOKIE_PATH,
                domain=settings.SESSION_COOKIE_DOMAIN,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )

    def _sign_out(self, request: HttpRequest) -> HttpResponse:
        request.xueji_logout_reason = "idle"  # type: ignore[attr-defined]
        logout(request)
        minutes = idle_seconds() // 60
        message = _(
            "You were signed out after %(minutes)d minutes without activity. Log in again."
        ) % {"minutes": minutes}
        if _is_api(request):
            return JsonResponse({"code": "session_expired", "message": message}, status=401)
        messages.info(request, message)
        return _redirect(request, _with_next(reverse(settings.LOGIN_URL), request))


class SecondFactorMiddleware:
    """Bureau staff, auditors and administrators (and superusers) see nothing until their session
    has been verified with their authenticator app (or a recovery code); the first time, they set
    one up with an enrolment code from an administrator. Place it
    after django_otp.middleware.OTPMiddleware. API calls with a bearer token are not affected:
    the token is the system client's credential."""

    EXEMPT_NAMES = frozenset(
        {
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
            and needs_second_factor(user)
            and not user.is_verified()
            and not self._exempt(request)
        ):
            return self._refuse(request, user)
        return self.get_response(request)

    def _exempt(self, request: HttpRequest) -> bool:
        if request.path.startswith(settings.STATIC_URL):
            return True
        if _is_api(request) and request.headers.get("Authorization", "").startswith("Bearer "):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in self.EXEMPT_NAMES

    def _refuse(self, request: HttpRequest, user: object) -> HttpResponse:
        if _is_api(request):
            message = _("Verify this session with your authenticator app on the website first.")
            note_refusal("second_factor_required", message, status=403)
            return JsonResponse({"code": "second_factor_required", "message": message}, status=403)
        enrolled = has_second_factor(user)
        name = "accounts:second_factor" if enrolled else "accounts:second_factor_setup"
        return _redirect(request, _with_next(reverse(name), request))
