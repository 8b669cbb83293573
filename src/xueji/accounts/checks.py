"""Deployment checks of account security (`xueji check --deploy`)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.core.checks import CheckMessage, Warning
from django.utils.module_loading import import_string

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
REQUIRED_MIDDLEWARE = (
    "xueji.accounts.middleware.SecurityHeadersMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "xueji.accounts.middleware.IdleTimeoutMiddleware",
    "xueji.accounts.middleware.SecondFactorMiddleware",
    "xueji.accounts.administration.middleware.PasswordChangeRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
)
MAX_IDLE_MINUTES = 60


def check_account_security(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    if not settings.PASSWORD_HASHERS or settings.PASSWORD_HASHERS[0] != ARGON2:
        found.append(Warning("Passwords are not hashed with Argon2.", id="xueji_accounts.W001"))
    if not getattr(settings, "XUEJI_TWO_FACTOR_REQUIRED", True):
        found.append(
            Warning(
                "The second factor is not required of bureau, auditor and admin accounts.",
                hint="Leave XUEJI_TWO_FACTOR_REQUIRED on.",
                id="xueji_accounts.W002",
            )
        )
    backends = [import_string(name) for name in settings.AUTHENTICATION_BACKENDS]
    if not backends or not issubclass(backends[0], AxesStandaloneBackend):
        found.append(
            Warning("Failed logins are not locked out (django-axes).", id="xueji_accounts.W003")
        )
    missing = [name for name in REQUIRED_MIDDLEWARE if name not in settings.MIDDLEWARE]
    if missing:
        found.append(
            Warning(
                f"Account security middleware missing: {', '.join(missing)}",
                id="xueji_accounts.W004",
            )
        )
    idle = getattr(settings, "XUEJI_SESSION_IDLE_MINUTES", 0)
    if not isinstance(idle, int) or not 0 < idle <= MAX_IDLE_MINUTES:
        found.append(
            Warning(
                f"XUEJI_SESSION_IDLE_MINUTES is {idle!r}; idle sessions should end within "
                f"{MAX_IDLE_MINUTES} minutes.",
                id="xueji_accounts.W005",
            )
        )
    return found
