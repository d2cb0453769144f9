"""Settings for slaportal, driven by environment variables.

With nothing set, the portal runs in demo mode: a SQLite file, tasks run
in-process, a database cache and emails written as files under ``var/mail``.
Production differs only by environment variables; see ``.env.example``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# With DEBUG, Django's technical error pages instead of the portal's own.
TECHNICAL_ERROR_PAGES = env.bool("SLA_TECHNICAL_ERROR_PAGES", default=False)


def _require(name: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set when DJANGO_DEBUG is False (see .env.example)."
        )
    return value


def _checked_url(name: str, schemes: set[str]) -> str | None:
    """Return the URL in ``name``, or raise a start-up error naming the variable."""
    value = env.str(name, default="").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.hostname or parts.path):
        raise ImproperlyConfigured(
            f"{name} is malformed: expected a URL starting with one of "
            f"{', '.join(sorted(s + '://' for s in schemes))}."
        )
    return value


if DEBUG:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY", default="insecure-demo-key-do-not-use-in-production"
    )
    ALLOWED_HOSTS = env.list(
        "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"]
    )
else:
    SECRET_KEY = _require("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = [h.strip() for h in _require("DJANGO_ALLOWED_HOSTS").split(",")]

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "slaportal",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "agreements",
    "reports",
    "api",
]

MIDDLEWARE = [
    # First: every line logged while handling a request carries its id.
    "slaportal.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Compresses the pages (the dashboard is a few hundred KiB of HTML) after
    # every middleware below has read or written the body. Whitenoise serves
    # static files compressed already. Each compressed response is padded
    # with random bytes: Django's mitigation of the BREACH attack.
    "django.middleware.gzip.GZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "slaportal.middleware.SecurityHeadersMiddleware",
    "slaportal.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # With DEBUG (the demo), the portal's own error pages, not Django's.
    "slaportal.error_pages.OwnErrorPagesMiddleware",
    # Last, so that it sees the outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
    "slaportal.lockout.LoginAddressThrottleMiddleware",
]

ROOT_URLCONF = "slaportal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "slaportal.context_processors.navigation",
                "reports.notifications.context_processors.inbox",
                "csp.context_processors.nonce",
            ],
        },
    },
    {
        # The emails (reports/notifications/jinja.py).
        "NAME": "emails",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "reports.notifications.jinja.environment"},
    },
]

WSGI_APPLICATION = "slaportal.wsgi.application"
ASGI_APPLICATION = "slaportal.asgi.application"

# --- Database -------------------------------------------------------------

DATABASE_URL = _checked_url(
    "DATABASE_URL", {"postgres", "postgresql", "pgsql", "sqlite"}
)
if not DEBUG and DATABASE_URL is None:
    raise ImproperlyConfigured(
        "DATABASE_URL must be set when DJANGO_DEBUG is False, e.g. "
        "postgres://user:password@host:5432/slaportal."
    )
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "slaportal.sqlite3",
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with timestamps parsed in C (slaportal/timestamps.py).
    DATABASES["default"]["ENGINE"] = "slaportal.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Two people writing at once in the demo must wait for each other, not see
    # "database is locked": write-ahead logging lets readers go on during a
    # write, and IMMEDIATE transactions take the write lock when they begin,
    # so a writer waits (up to ``timeout`` seconds) instead of failing when
    # it upgrades a read lock mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, result backend and cache -----------------------

REDIS_URL = _checked_url("REDIS_URL", {"redis", "rediss", "unix"})
if not DEBUG and REDIS_URL is None:
    raise ImproperlyConfigured(
        "REDIS_URL must be set when DJANGO_DEBUG is False, e.g. redis://host:6379/0."
    )

if REDIS_URL:
    CACHES = {
        "default": {
            # Redis, but a Redis that is down is a cache miss, not a 500: the
            # pages work on without it (slaportal/cache.py).
            "BACKEND": "slaportal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Shared by every process of the demo, unlike a per-process memory cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "slaportal_cache",
        }
    }

# With a host named, kombu does not warn that it assumed one.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Without a broker, tasks run in-process: the demo needs no Redis.
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 9 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Countdowns and retry backoff stay well below this, or a message is redelivered.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With the broker down, sending a task gives up within a few seconds (the
# delivery stays pending, and the reconcile task sends it later) instead of
# holding the request.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# Beat's timetable (CELERY_TIMEZONE, CELERY_BEAT_SCHEDULE) is at the end: it
# reads the organisation's time zone and the product settings.

# --- Email ----------------------------------------------------------------

EMAIL_URL = _checked_url(
    "EMAIL_URL", {"smtp", "smtps", "smtp+tls", "smtp+ssl", "consolemail"}
)
if EMAIL_URL:
    # EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, ... from one URL.
    globals().update(env.email_url_config(EMAIL_URL))
    if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":  # noqa: F821
        # Django's, sending each message in fewer steps (slaportal/mail.py).
        EMAIL_BACKEND = "slaportal.mail.SMTPEmailBackend"
else:
    # One .eml file per message (and its HTML beside it): readable by a person.
    EMAIL_BACKEND = "slaportal.mail.EmlFileBackend"
    EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="slaportal <sla@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = "[slaportal] "
# A mail server that stops answering fails the attempt instead of holding a
# worker until the task's time limit; the attempt is retried with backoff.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- Authentication -------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = None

# Login throttling (slaportal/lockout.py): 5 failures lock a username,
# whatever addresses they came from, for 15 minutes, doubled for each further
# lock-out that day; 20 failures from one address within 15 minutes block
# log-ins from it. Counted in the database and the shared cache, so every
# process agrees.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_MINUTES = env.float("LOGIN_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = "slaportal.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_ENABLE_ACCESS_FAILURE_LOG = True
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
LOGIN_ADDRESS_WINDOW_MINUTES = env.float("LOGIN_ADDRESS_WINDOW_MINUTES", default=15)
# axes warns when it does not count per address: here the per-address limit is
# slaportal.lockout's, with a limit of its own (one axes limit would lock an
# office behind one address after five mistakes of anyone in it).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Behind proxies, set DJANGO_TRUSTED_PROXY_COUNT so that a client cannot reset
# its own counter with a forged X-Forwarded-For (see slaportal/net.py).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "slaportal.net.client_ip"

# --- Internationalisation -------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "slaportal.staticfiles.StaticFilesStorage"
        )
    },
}
# WhiteNoise looks static files up as they are asked for (the demo) or reads
# them all once as its middleware starts (production), by the environment's
# DEBUG: its own default reads settings.DEBUG when the middleware starts,
# which Django's test runner has turned off, so every test client would read
# every static file again.
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security -------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts and style elements only from
# the portal itself or with the response's nonce, nothing framed, no plugins.
# Style *attributes* stay allowed: progress bars and the server-drawn SVG
# charts size themselves with them, and an attribute cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
# Features no page uses, switched off for every page (slaportal.middleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Production served over plain HTTP on this machine's loopback alone (`make
# prod`): the settings that need TLS are off, and their deploy checks with
# them; every other production setting and check stays. Refused for any
# host name but a loopback one.
LOOPBACK_WITHOUT_TLS = not DEBUG and env.bool("SLA_LOOPBACK_WITHOUT_TLS", default=False)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
if LOOPBACK_WITHOUT_TLS and not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS:
    raise ImproperlyConfigured(
        "SLA_LOOPBACK_WITHOUT_TLS serves without TLS: DJANGO_ALLOWED_HOSTS may "
        f"then name only {', '.join(sorted(LOOPBACK_HOSTS))}."
    )
if LOOPBACK_WITHOUT_TLS:
    SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
    SECURE_HSTS_SECONDS = 0
    SILENCED_SYSTEM_CHECKS += [
        "security.W004",  # HSTS
        "security.W008",  # redirect to HTTPS
        "security.W012",  # session cookie over HTTPS only
        "security.W016",  # CSRF cookie over HTTPS only
    ]
elif not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int(
        "DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365
    )
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
    )
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST framework -------------------------------------------------------

REST_FRAMEWORK = {
    # Bearer first: a request without credentials is then answered 401 with
    # a WWW-Authenticate header, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "api.filters.StrictFilterBackend",
        "api.filters.StableOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    # Counted in the default cache, which every process shares (the database
    # cache in the demo, Redis in production).
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonThrottle",
        "api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="300/minute"),
    },
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "slaportal API",
    "DESCRIPTION": (
        "Teams, agreements and their objectives, and the agreement lifecycle. "
        "Authenticate with a session (and its CSRF token) or with "
        "`Authorization: Bearer <token>`, a token made on the API tokens page. "
        'Every error has one shape: `{"error": {"status", "code", '
        '"message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.bound_bulk_bodies",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response shapes differ (ids in, nested teams out).
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body says itself what it requires (edit_count): keep that in
    # the schema instead of a copy with every field optional.
    "COMPONENT_SPLIT_PATCH": False,
    # Several resources have a "status": name each set of choices by its model.
    "ENUM_NAME_OVERRIDES": {
        "AgreementStatusEnum": "agreements.models.Agreement.Status",
        "BreachStatusEnum": "reports.models.Breach.Status",
        "FrictionReportStatusEnum": "agreements.models.FrictionReport.Status",
        # A month's standing: the one vocabulary of every page and email.
        "StandingEnum": "reports.scoring.Status.ALL",
    },
    # The documentation pages work offline: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging --------------------------------------------------------------

# Every line carries the request's id (slaportal/logs.py, the X-Request-ID
# header) or the Celery task's. In production each line is one JSON object, for
# a log collector; the demo keeps plain lines, for a person at a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "slaportal.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "slaportal.logs.json_formatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if DEBUG else "json",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
# A Celery worker replaces the root logger's handlers with its own plain ones
# unless told not to: in production its lines (and its tasks') go out as JSON
# through the handler above, with the task's id.
CELERY_WORKER_HIJACK_ROOT_LOGGER = DEBUG

# --- Product settings -----------------------------------------------------

# Days after a month's end during which figures can still be entered.
SLA_GRACE_DAYS = env.int("SLA_GRACE_DAYS", default=3)
# The documented password of the demo personas made by seed_demo.
DEMO_PASSWORD = "slaportal-demo"  # noqa: S105
# Reminders go to leads with missing figures this many days before the deadline.
SLA_REMINDER_DAYS = env.int("SLA_REMINDER_DAYS", default=3)
# At-risk alerts start on this day of the month: earlier, the pace is noise.
SLA_AT_RISK_FROM_DAY = env.int("SLA_AT_RISK_FROM_DAY", default=15)
# The hour (organisation's clock) of the daily and monthly email runs.
SLA_EMAIL_HOUR = env.int("SLA_EMAIL_HOUR", default=8)
# Months whose emails beat missed are caught up by the reconcile task only if
# they are among this many most recent months; older ones are finalised quietly.
SLA_EMAIL_CATCH_UP_MONTHS = env.int("SLA_EMAIL_CATCH_UP_MONTHS", default=2)
# An email is tried this many times (temporary SMTP errors), then it is failed.
SLA_EMAIL_MAX_ATTEMPTS = env.int("SLA_EMAIL_MAX_ATTEMPTS", default=5)
# Backoff between attempts: this, then doubled each time (30 s, 1, 2, 4 min).
# It must stay well below the broker's visibility timeout (1 h).
SLA_EMAIL_RETRY_SECONDS = env.float("SLA_EMAIL_RETRY_SECONDS", default=30)
# A claimed email not marked sent within this time belonged to a worker that
# died; it may then be taken over. Longer than CELERY_TASK_TIME_LIMIT.
SLA_EMAIL_LEASE_SECONDS = env.float("SLA_EMAIL_LEASE_SECONDS", default=15 * 60)
# The month end hands its emails to the workers in tasks of this many, each
# sent over one mail connection.
SLA_EMAIL_BATCH_SIZE = env.int("SLA_EMAIL_BATCH_SIZE", default=25)
# The queue background tasks are sent to; empty means Celery's default.
SLA_TASK_QUEUE = env.str("SLA_TASK_QUEUE", default="")
# Team channels (Slack, Teams): the Fernet key their webhook addresses are
# encrypted with; empty, a key derived from DJANGO_SECRET_KEY. Generate one
# with `python -c "from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())"`.
SLA_CHANNEL_KEY = env.str("SLA_CHANNEL_KEY", default="")
# Lets a channel post to http://127.0.0.1 (a local sink) with DEBUG off: tests.
SLA_CHANNEL_ALLOW_LOCAL = env.bool("SLA_CHANNEL_ALLOW_LOCAL", default=False)

if not 0 <= SLA_GRACE_DAYS <= 27:
    raise ImproperlyConfigured("SLA_GRACE_DAYS must be between 0 and 27.")
if not 1 <= SLA_AT_RISK_FROM_DAY <= 28:
    raise ImproperlyConfigured("SLA_AT_RISK_FROM_DAY must be between 1 and 28.")
if not 0 <= SLA_EMAIL_HOUR <= 23:
    raise ImproperlyConfigured("SLA_EMAIL_HOUR must be between 0 and 23.")

# --- Beat's timetable -----------------------------------------------------

# Crontabs read on the organisation's clock, the clock months are kept in:
# "08:00" stays 08:00 local across daylight-saving changes. Every job is
# idempotent and the hourly reconcile redoes whatever beat missed, so a missed
# or doubled run is harmless (beat does not backfill).
CELERY_TIMEZONE = TIME_ZONE
# Celery's scheduler, noting each tick for /health/ (slaportal/beat.py); it
# ticks at least once a minute, whatever is due.
CELERY_BEAT_SCHEDULER = "slaportal.beat:Scheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = 60
CELERY_BEAT_SCHEDULE = {
    # Every 5 minutes: proves a worker is consuming; shown on /health/.
    "worker-heartbeat": {
        "task": "reports.tasks.heartbeat",
        "schedule": crontab(minute="*/5"),
    },
    # Day SLA_GRACE_DAYS + 1 of each month at 08:00 local (the 4th with the
    # default 3 grace days): last month has just locked; finalise its
    # scorecards, email them and the digest, and escalate missing figures.
    "month-close": {
        "task": "reports.tasks.month_close_due",
        "schedule": crontab(
            minute=0, hour=SLA_EMAIL_HOUR, day_of_month=SLA_GRACE_DAYS + 1
        ),
    },
    # Every day at 08:05 local: reminders to leads whose figures are missing
    # SLA_REMINDER_DAYS or fewer days before the deadline (with the defaults,
    # from the 1st); escalations to heads once a month locked without them.
    "reminders": {
        "task": "reports.tasks.reminders_due",
        "schedule": crontab(minute=5, hour=SLA_EMAIL_HOUR),
    },
    # Every day from day SLA_AT_RISK_FROM_DAY (the 15th) to the month's end at
    # 08:10 local: at-risk alerts from the pace projection, once per objective.
    "at-risk-alerts": {
        "task": "reports.tasks.at_risk_alerts_due",
        "schedule": crontab(
            minute=10, hour=SLA_EMAIL_HOUR, day_of_month=f"{SLA_AT_RISK_FROM_DAY}-31"
        ),
    },
    # Every day at 08:15 local: yesterday's notifications, for those who
    # chose to read them in a daily summary.
    "event-summaries": {
        "task": "reports.tasks.event_summaries_due",
        "schedule": crontab(minute=15, hour=SLA_EMAIL_HOUR),
    },
    # Every day at 08:20 local: agreements whose review date has come, to
    # both parties' heads (once per review date).
    "review-dates": {
        "task": "reports.tasks.reviews_due",
        "schedule": crontab(minute=20, hour=SLA_EMAIL_HOUR),
    },
    # Every day at 03:50 local: notifications older than 90 days are dropped.
    "clear-old-notifications": {
        "task": "reports.tasks.notifications_clear_old",
        "schedule": crontab(minute=50, hour=3),
    },
    # Every 5 minutes: emails and channel messages held outside their
    # recipients' working hours, once those hours have begun.
    "held-release": {
        "task": "reports.tasks.held_release",
        "schedule": crontab(minute="*/5"),
    },
    # Every hour at :17: whatever should have happened and did not (beat or
    # the workers were down; a message was lost); running it again does nothing.
    "reconcile": {
        "task": "reports.tasks.reconcile",
        "schedule": crontab(minute=17),
    },
    # Every day at 03:40 local: CSV files uploaded more than a day ago and
    # never imported are dropped (each new upload does it too).
    "clear-pending-imports": {
        "task": "agreements.records.tasks.clear_pending_imports",
        "schedule": crontab(minute=40, hour=3),
    },
}
