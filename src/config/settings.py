"""Settings for Xueji. Everything that differs between machines comes from the environment."""

import datetime
import json
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

SRC_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = SRC_DIR.parent
VAR_DIR = Path(os.environ.get("XUEJI_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("XUEJI_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = os.environ.get("XUEJI_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("XUEJI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "xueji.core",
    "xueji.audit",
    "xueji.geo",
    "xueji.schools",
    "xueji.access",
    "xueji.students",
    "xueji.corrections",
    "xueji.changes",
    "xueji.verification",
    "xueji.scores",
    "xueji.demo",
    "xueji.stats",
    "xueji.imports",
    "xueji.exports",
    "xueji.yearend",
    "xueji.trail",
    "xueji.identity",
    "xueji.attendance",
    "xueji.welfare",
    "xueji.archive",
    "xueji.reporting",
    "xueji.federation",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "xueji.accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "xueji.accounts.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "xueji.core.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "xueji.core.api.ApiErrorsAsJson",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "xueji.audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "xueji.accounts.middleware.IdleTimeoutMiddleware",
    "xueji.accounts.middleware.SecondFactorMiddleware",
    "xueji.accounts.administration.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "xueji.access.context_processors.membership",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'xueji.sqlite3'}",
        conn_max_age=int(os.environ.get("XUEJI_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and a background worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

# Two roles on PostgreSQL (README, "Security"): the application connects as DATABASE_URL's role,
# which owns no table and may only read and append to the audit trail; migrations run as the
# owner of the tables, XUEJI_OWNER_DATABASE_URL (the `migrate` command uses it by itself).
OWNER_DATABASE_URL = os.environ.get("XUEJI_OWNER_DATABASE_URL", "")
if OWNER_DATABASE_URL:
    DATABASES["owner"] = dj_database_url.parse(OWNER_DATABASE_URL)
    # Tests create their database as the owner and point this alias at it (xueji.testing).
    DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
# The role the grants after each migration go to: DATABASE_URL's user unless said otherwise.
XUEJI_APP_DB_ROLE = os.environ.get("XUEJI_APP_DB_ROLE") or (
    DATABASES["default"].get("USER", "") if OWNER_DATABASE_URL else ""
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [SRC_DIR / "xueji" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [SRC_DIR / "xueji" / "static"]

LOGIN_URL = "access:login"
LOGIN_REDIRECT_URL = "students:home"
LOGOUT_REDIRECT_URL = "access:login"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Ages outside [expected - below, expected + above] for a grade are flagged at registration.
XUEJI_AGE_TOLERANCE_BELOW = int(os.environ.get("XUEJI_AGE_TOLERANCE_BELOW", "1"))
XUEJI_AGE_TOLERANCE_ABOVE = int(os.environ.get("XUEJI_AGE_TOLERANCE_ABOVE", "2"))
# Statistics shown to those without access to the records hide counts below this (xueji.stats).
# Year end (xueji.yearend): a bureau may reverse a run within this many days; graduates not
# admitted anywhere by this date (month-day of the year they graduate into) are possible dropouts.
XUEJI_YEAREND_REVERSIBLE_DAYS = int(os.environ.get("XUEJI_YEAREND_REVERSIBLE_DAYS", "30"))
XUEJI_INTAKE_DEADLINE = os.environ.get("XUEJI_INTAKE_DEADLINE", "09-30")
XUEJI_SMALL_CELL_THRESHOLD = int(os.environ.get("XUEJI_SMALL_CELL_THRESHOLD", "5"))
# Spreadsheet imports (xueji.imports): the largest upload accepted, in MB.
XUEJI_IMPORT_MAX_MB = int(os.environ.get("XUEJI_IMPORT_MAX_MB", "50"))
# Exports: an Excel file of more rows than this is written in the background (a file of a
# province takes minutes, longer than a proxy waits for a first byte); kept this many hours.
XUEJI_EXPORT_BACKGROUND_ROWS = int(os.environ.get("XUEJI_EXPORT_BACKGROUND_ROWS", "20000"))
XUEJI_EXPORT_KEEP_HOURS = int(os.environ.get("XUEJI_EXPORT_KEEP_HOURS", "24"))

# Changes of status (xueji.changes): province rules and closed periods, JSON (see README). Only
# defaults: the ministry and each province set them on pages (ClosedPeriod and ProvinceRuleVersion
# rows), which win wherever a level has set any for an operation or a province.
XUEJI_PROVINCE_RULES = json.loads(os.environ.get("XUEJI_PROVINCE_RULES", "{}"))
XUEJI_CHANGE_CLOSED_PERIODS = json.loads(
    os.environ.get(
        "XUEJI_CHANGE_CLOSED_PERIODS",
        '{"nation": [{"kind": "transfer", "from": "07-15", "to": "08-14"}]}',
    )
)
# Audit entries older than this are purged by `xueji audit purge`; at least 180 (system check).
XUEJI_AUDIT_RETENTION_DAYS = int(os.environ.get("XUEJI_AUDIT_RETENTION_DAYS", "365"))
# Signed checkpoints of the audit trail (xueji.audit.signing): Ed25519 keys "id:<base64 32-byte
# seed>", the first signs; retired public keys "id:<base64 32-byte public key>" still verify.
# Without keys (nor "audit_signing" in XUEJI_KEY_FILE) one is derived from SECRET_KEY, which
# production refuses. `xueji audit seal --every` seals every XUEJI_AUDIT_CHECKPOINT_SECONDS and
# copies the latest checkpoint to XUEJI_AUDIT_WITNESS_FILE, outside the database.
XUEJI_AUDIT_SIGNING_KEYS = os.environ.get("XUEJI_AUDIT_SIGNING_KEYS", "")
XUEJI_AUDIT_VERIFY_KEYS = os.environ.get("XUEJI_AUDIT_VERIFY_KEYS", "")
# The cryptographic suite that seals, indexes and signs (xueji.core.suites): "intl" (AES-256-GCM,
# HMAC-SHA256, Ed25519) or "sm" (SM4-GCM, HMAC-SM3, SM2: the national algorithms GB/T 39786
# expects). Both read; `xueji rotate_keys` moves the data, `xueji crypto status` shows where it
# stands. The sm suite's field keys are XUEJI_SM4_FIELD_KEYS ("id:<base64 16 bytes>") and
# XUEJI_SM3_INDEX_KEY, read from the environment as XUEJI_FIELD_KEYS and XUEJI_INDEX_KEY are; its
# checkpoint keys are SM2's: "id:<base64 32-byte private key>", retired "id:<base64 64-byte x||y>".
XUEJI_CRYPTO_SUITE = os.environ.get("XUEJI_CRYPTO_SUITE", "intl")
XUEJI_AUDIT_SM2_SIGNING_KEYS = os.environ.get("XUEJI_AUDIT_SM2_SIGNING_KEYS", "")
XUEJI_AUDIT_SM2_VERIFY_KEYS = os.environ.get("XUEJI_AUDIT_SM2_VERIFY_KEYS", "")
XUEJI_AUDIT_CHECKPOINT_SECONDS = int(os.environ.get("XUEJI_AUDIT_CHECKPOINT_SECONDS", "60"))
XUEJI_AUDIT_WITNESS_FILE = os.environ.get(
    "XUEJI_AUDIT_WITNESS_FILE", str(VAR_DIR / "audit-witness.json")
)
# Look-ups of children registered at other schools (a registration refused because another
# school holds the ID number, a transfer's look-up by number and name) each user may make in any
# 60 minutes; beyond it 429 and an alert on the auditors' page (xueji.access.lookups).
XUEJI_LOOKUP_LIMIT_PER_HOUR = int(os.environ.get("XUEJI_LOOKUP_LIMIT_PER_HOUR", "20"))
# Reverse proxies in front of the app whose X-Forwarded-For entries are trusted (0: none).
XUEJI_TRUSTED_PROXIES = int(os.environ.get("XUEJI_TRUSTED_PROXIES", "0"))

# Accounts (xueji.accounts): Argon2 first, older hashes upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    # System-chosen first passwords (random, changed at the first login; see the module).
    "xueji.accounts.administration.hashers.InitialPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "xueji.accounts.backends.LockoutBackend",
    "xueji.accounts.backends.AccountBackend",
]
# Lockout after repeated failed logins (django-axes): of one account from one address (a
# school's staff share an address), and, at a higher limit, from one address over all accounts
# (xueji.accounts.lockout.LockoutHandler; axes has one limit for every group).
AXES_FAILURE_LIMIT = int(os.environ.get("XUEJI_LOGIN_FAILURE_LIMIT", "5"))
XUEJI_LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(
    os.environ.get("XUEJI_LOGIN_FAILURE_LIMIT_PER_ADDRESS", "50")
)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("XUEJI_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "xueji.accounts.lockout.LockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "xueji.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "xueji.audit.middleware.client_address"
AXES_VERBOSE = False
# TOTP second factor of bureau, auditor and admin accounts (django-otp).
XUEJI_TWO_FACTOR_REQUIRED = os.environ.get("XUEJI_TWO_FACTOR_REQUIRED", "1") == "1"
OTP_TOTP_ISSUER = "Xueji"
# An authenticator is set up only with a single-use code an administrator issues, valid this long.
XUEJI_ENROLMENT_CODE_HOURS = int(os.environ.get("XUEJI_ENROLMENT_CODE_HOURS", "72"))
# Sessions end after this many idle minutes, and after 12 hours in any case.
XUEJI_SESSION_IDLE_MINUTES = int(os.environ.get("XUEJI_SESSION_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Accounts not used for this many days are sealed by `xueji seal_stale_accounts`.
XUEJI_ACCOUNT_STALE_DAYS = int(os.environ.get("XUEJI_ACCOUNT_STALE_DAYS", "180"))
# Security headers (the content security policy is set by xueji.accounts.middleware).
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XUEJI_LOG_LEVEL", "WARNING")},
}

SITE_TITLE = _("Student Registry")

# Two-level deployment (xueji.federation, README "Two-level deployment"): XUEJI_NODE is
# "province:44" (a provincial node) or "national" (the hub); unset, one database holds the country
# and nothing federates. A node signs its requests to the hub (XUEJI_HUB_URL) with its credential
# XUEJI_NODE_SECRET; the hub holds every node's, XUEJI_HUB_NODE_SECRETS ({"44": "…"}). Every node
# shares XUEJI_INDEX_KEY (the blind indexes must agree across the country).
XUEJI_NODE = os.environ.get("XUEJI_NODE", "")
XUEJI_HUB_URL = os.environ.get("XUEJI_HUB_URL", "")
XUEJI_NODE_SECRET = os.environ.get("XUEJI_NODE_SECRET", "")
XUEJI_HUB_NODE_SECRETS = json.loads(os.environ.get("XUEJI_HUB_NODE_SECRETS", "{}"))
XUEJI_HUB_TIMEOUT = float(os.environ.get("XUEJI_HUB_TIMEOUT", "3"))
# A reservation its node never confirmed (the registration rolled back) lapses after this long.
XUEJI_HUB_RESERVATION_TTL = int(os.environ.get("XUEJI_HUB_RESERVATION_TTL", "600"))
# Messages between nodes (outbox rows, received copies and their payloads) are dropped after this
# many days once applied and acknowledged (`xueji federation trim`, daily from the worker); the
# inbox's keys stay. At least 7 (system check).
XUEJI_FEDERATION_RETENTION_DAYS = int(os.environ.get("XUEJI_FEDERATION_RETENTION_DAYS", "30"))
if XUEJI_NODE.startswith("province:"):
    XUEJI_NATIONAL_INDEX = os.environ.get(
        "XUEJI_NATIONAL_INDEX", "xueji.federation.client.HubNationalIndex"
    )
elif os.environ.get("XUEJI_NATIONAL_INDEX"):
    XUEJI_NATIONAL_INDEX = os.environ["XUEJI_NATIONAL_INDEX"]
# Static files served by the app itself (WhiteNoise) where no front proxy does (gunicorn).
if os.environ.get("XUEJI_SERVE_STATIC") == "1":
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
