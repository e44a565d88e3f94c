"""One settings module, configured from the environment.

Without DATABASE_URL / REDIS_URL the app runs on an embedded default: SQLite, an in-process channel layer
and Celery tasks executed in the calling process. With them set it uses PostgreSQL and Redis.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")

DEBUG = env_bool("DEBUG", default=not DATABASE_URL)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105 - only used with DEBUG on

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "channels",
    "helpdesk",
    "departments",
    "tickets",
    "routing",
    "reports",
    "channels_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "helpdesk.middleware.TenantMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"
WSGI_APPLICATION = "helpdesk.wsgi.application"
AUTH_USER_MODEL = "helpdesk.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"

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
                "helpdesk.context_processors.tenancy",
            ],
        },
    },
]

# Database. PostgreSQL connects as the application role, which row-level security applies to; migrations
# run with the owner's credentials (MIGRATION_DATABASE_URL, or DATABASE_URL pointed at the owner).
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Under ASGI each request runs in a new thread, and Django's connections belong to threads, so without a
    # pool every request would open a new PostgreSQL connection. Off by default for the test suite, which
    # switches the database role of its connection after creating the test database.
    if env_bool("DB_POOL", default=False):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2), "max_size": env_int("DB_POOL_MAX", 8),
        }
else:
    _SQLITE_PATH = Path(os.environ.get("SQLITE_PATH", str(BASE_DIR / "var" / "helpdesk.sqlite3")))
    # Any manage.py command works on a fresh checkout, not only `make run` (which also creates var/).
    _SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_SQLITE_PATH),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
# Role that row-level security policies and grants are written for (PostgreSQL only).
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "helpdesk_app")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# Attachments: what a customer or agent may upload with a message.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_CONTENT_TYPES = env_list(
    "ATTACHMENT_CONTENT_TYPES",
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,application/zip,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES + 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Celery: Redis when REDIS_URL is set, otherwise tasks run in the calling process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Outgoing mail to customers. The embedded default (`make run`) prints mails on the console; with a database
# configured the SMTP backend is used, set up by EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
# EMAIL_USE_TLS / EMAIL_USE_SSL. Customers see a department's support address; DEFAULT_FROM_EMAIL otherwise.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if DATABASE_URL else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@localhost")
# Where customers reach the help desk: links sent out of it (a mail's rating link, the chat widget's rating
# prompt) are absolute on this address.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# A mail the backend refuses is tried this many times in all, waiting EMAIL_RETRY_SECONDS, then twice as
# long, and so on, before it is recorded as failed on the ticket's log.
EMAIL_SEND_ATTEMPTS = env_int("EMAIL_SEND_ATTEMPTS", 5)
EMAIL_RETRY_SECONDS = env_int("EMAIL_RETRY_SECONDS", 30)
# How often the SLA sweep announces targets due soon or breached (beat; `make run`'s embedded default runs the
# sla_sweep command).
SLA_SWEEP_SECONDS = env_int("SLA_SWEEP_SECONDS", 60)
# Every open agent socket tells the database it is alive this often; one silent for three beats (its server
# died without closing it) counts as gone, so the agent's offline grace period can start.
PRESENCE_HEARTBEAT_SECONDS = env_int("PRESENCE_HEARTBEAT_SECONDS", 20)

# Channels: Redis layer when REDIS_URL is set, in-process otherwise (one server process only).
if REDIS_URL:
    # The layer waits for messages in a 5 s blocking BZPOPMIN, and redis-py's default socket timeout is also
    # 5 s: the read sometimes gave up first, and the error closed an idle agent's socket (1011).
    _LAYER_REDIS_URL = REDIS_URL + ("&" if "?" in REDIS_URL else "?") + "socket_timeout=15"
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [_LAYER_REDIS_URL]}}
    }
    # Rate limits and API throttles count across every server process, so their counters live in Redis.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                    "KEY_PREFIX": "hd"}
    }
    # Sessions are read on every page: from Redis, with the database as the lasting copy.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["helpdesk.api.authentication.TenantPrincipalAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["helpdesk.api.permissions.IsTenantMember"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "helpdesk.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "helpdesk.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Help desk API",
    "DESCRIPTION": "Departments, agents, tickets, messages and the ticket system log of one tenant; calls from "
    "the telephony provider; routing decisions, offers and settings. "
    "Authenticate with `Authorization: Bearer <api key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/favicon.svg",
    # Operation ids like `tickets_list`, not `v1_tickets_list`.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Tickets and agents both have a `status`, messages and log events both a `kind`: name each set of choices.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Status",
        "AgentStatusEnum": "departments.models.AgentStatus",
        "MessageKindEnum": "tickets.models.MessageKind",
        "EventKindEnum": "tickets.models.EventKind",
        # A ticket's channel keeps its name beside the routing channel (chat, call, ticket).
        "ChannelEnum": "tickets.models.Channel",
        "RoutingChannelEnum": "routing.models.RoutingChannel",
        "RoutingMethodEnum": "routing.models.Method",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# The test suite creates many users; a deliberately slow password hash would dominate its run time.
if env_bool("FAST_PASSWORD_HASHING", default=False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

CELERY_BEAT_SCHEDULE = {
    "routing-expire-offers-and-reconcile": {
        "task": "routing.tasks.expire_offers_and_reconcile",
        "schedule": env_int("ROUTING_RECONCILE_SECONDS", 5),
    },
    "tickets-sla-sweep": {"task": "tickets.tasks.sla_sweep", "schedule": SLA_SWEEP_SECONDS},
    "rules-time-sweep": {
        "task": "routing.rules.tasks.rules_time_sweep",
        "schedule": env_int("RULES_SWEEP_SECONDS", 60),
    },
    "reports-rollup": {"task": "reports.tasks.rollup_reports", "schedule": env_int("REPORTS_ROLLUP_SECONDS", 60)},
}
