"""Production settings: DJANGO_SETTINGS_MODULE=config.settings_production.

Everything of config.settings, with the secure choices made and the secrets required from the
environment: XUEJI_SECRET_KEY (at least 50 characters), XUEJI_ALLOWED_HOSTS and DATABASE_URL
(PostgreSQL). Served over HTTPS only; behind a reverse proxy set XUEJI_TRUSTED_PROXIES so that
the client's address and the request's scheme are taken from it. `xueji check --deploy` passes.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings import *  # noqa: F403
from config.settings import DATABASES, XUEJI_TRUSTED_PROXIES


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return value


DEBUG = False
SECRET_KEY = _required("XUEJI_SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("dev-only", "django-insecure")):
    raise ImproperlyConfigured("XUEJI_SECRET_KEY must be a random secret of 50 characters or more")
ALLOWED_HOSTS = [host.strip() for host in _required("XUEJI_ALLOWED_HOSTS").split(",") if host]
_required("DATABASE_URL")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("production runs on PostgreSQL: set DATABASE_URL to postgres://…")

# HTTPS only, remembered by browsers for a year.
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
if XUEJI_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Cookies only over HTTPS, bound to this host (the __Host- prefix), out of reach of scripts.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_NAME = "__Host-csrftoken"

# Not switchable in production.
XUEJI_TWO_FACTOR_REQUIRED = True
# The audit trail's checkpoints are signed with configured keys (XUEJI_AUDIT_SIGNING_KEYS or the
# key file's "audit_signing"), never with one derived from SECRET_KEY (xueji.audit.signing).
XUEJI_AUDIT_DERIVED_KEY_ALLOWED = False
