"""One settings module for every stage; the environment decides.

Embedded default (nothing set): SQLite under var/, Celery tasks run eagerly in-process,
a local-memory cache. Production and CI set DATABASE_URL and REDIS_URL.
Every variable read here is listed in README.md ("Configuration").
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet, MultiFernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# A development key exists only with DEBUG on, so a production process without
# SECRET_KEY refuses to start instead of signing sessions with a known key.
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production-0123456789")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "compliance",
    "compliance.reference",
    "users",
    "transactions",
    "rules",
    "cases",
]

MIDDLEWARE = [
    "compliance.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "compliance.urls"
WSGI_APPLICATION = "compliance.wsgi.application"

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
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'compliance.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections with health checks: gunicorn workers reuse them across requests.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite: wait for the writer lock instead of failing at once under concurrent requests.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "compliance.StaffUser"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Redis: broker, results and cache ------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": "compliance",
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": "compliance"}
    }

# --- Celery -----------------------------------------------------------------------------
# Without REDIS_URL tasks run eagerly in the calling process so `make run` needs no broker.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Acknowledge after the task ran, so a worker killed mid-task leaves it to another worker;
# every task is idempotent for that reason.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Redis redelivers unacknowledged tasks after this; it must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_RESULT_EXPIRES = timedelta(hours=1)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request must not hang when the broker is down: publishing gives up quickly and the
# outbox sweep delivers later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Tests and `make run` serve static files from the finders; production runs collectstatic.
WHITENOISE_USE_FINDERS = DEBUG or env.bool("WHITENOISE_USE_FINDERS", default=False)

# --- Security -----------------------------------------------------------------------------
# Production is "DEBUG off"; these are what `check --deploy` asks for. Behind a TLS-terminating
# proxy set SECURE_PROXY_SSL_HEADER via FORWARDED_PROTO_HEADER=1.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# The preload directive only allows submission to browsers' lists; nothing is submitted by it.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if env.bool("FORWARDED_PROTO_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health probe is called over plain HTTP by load balancers inside the network.
SECURE_REDIRECT_EXEMPT = [r"^api/health$"]

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The first class's WWW-Authenticate header makes unauthenticated requests 401, not 403.
        "compliance.api.authentication.AccessTokenAuthentication",
        "compliance.api.authentication.ApiKeyAuthentication",
        "compliance.api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["compliance.api.permissions.RolePermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["compliance.api.throttling.CredentialRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "credential": env.str("API_RATE_LIMIT", default="6000/min"),
        "anonymous": env.str("API_ANON_RATE_LIMIT", default="120/min"),
        "batch": env.str("API_BATCH_RATE_LIMIT", default="60/min"),
    },
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "compliance.api.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "compliance.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Compliance back-office API",
    "DESCRIPTION": (
        "Customer due diligence, screening, transaction monitoring, alerts and cases. "
        "Paths and field names follow the source documents listed in docs; see README."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API's shape is public documentation, as the source vendors publish theirs.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "RuleActionEnum": "transactions.models.RuleAction",
        "CurrencyEnum": "transactions.currencies.CURRENCY_CHOICES",
        "TransactionTypeEnum": "transactions.models.TransactionType",
        "CaseStatusEnum": "cases.models.CaseStatus",
        "CasePriorityEnum": "rules.models.CasePriority",
        "CaseEntityTypeEnum": "cases.models.CaseEntityType",
        "AlertEntityTypeEnum": "cases.models.AlertEntityType",
        "StatusReasonEnum": "cases.models.StatusReason",
        "BatchStatusEnum": "transactions.models.Batch.Status",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "compliance.api.schema.add_error_responses",
    ],
}

# Login tokens (seed 003 asks integrators to cycle them "ideally every other day").
ACCESS_TOKEN_TTL = timedelta(hours=env.float("ACCESS_TOKEN_TTL_HOURS", default=48))
# Failed logins: at most LOGIN_FAILURE_LIMIT per username and per client address within
# LOGIN_FAILURE_WINDOW seconds, then 429 until the window passes.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=300)

# Domain events: an undelivered outbox row is re-dispatched by the sweep after this grace.
OUTBOX_REDISPATCH_AFTER = timedelta(seconds=env.int("OUTBOX_REDISPATCH_AFTER_SECONDS", default=60))
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=20)

# --- Outgoing webhooks (compliance/webhooks) -------------------------------------------------
# Signing secrets are stored encrypted (Fernet). WEBHOOK_SECRETS_KEY is a comma-separated list of
# Fernet keys (`Fernet.generate_key()`): the first encrypts, all decrypt, so a key is rotated by
# putting the new one first. Production must set it: the key must not live in the database it
# protects. With DEBUG on a key is derived from SECRET_KEY so `make run` and tests need nothing.
WEBHOOK_SECRETS_KEY = env.list("WEBHOOK_SECRETS_KEY", default=[])
if not WEBHOOK_SECRETS_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("WEBHOOK_SECRETS_KEY must be set when DEBUG is off")
    WEBHOOK_SECRETS_KEY = [
        base64.urlsafe_b64encode(hashlib.sha256(b"webhook-secrets:" + SECRET_KEY.encode()).digest()).decode()
    ]
try:
    MultiFernet([Fernet(key) for key in WEBHOOK_SECRETS_KEY])
except ValueError:
    raise ImproperlyConfigured(
        "WEBHOOK_SECRETS_KEY: each key must be a Fernet key (32 url-safe base64-encoded bytes)"
    ) from None
# Receivers get plain-HTTP URLs only in development; production refuses them unless allowed
# (e.g. a receiver inside the same private network).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)
# One POST waits at most this long for each network step (connect, send, each read).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# A failed attempt is retried after base * 2^(n-1) seconds (30 s, 1 min, 2 min ... capped),
# until WEBHOOK_MAX_ATTEMPTS attempts failed (8: about an hour of trying); then "failed",
# and the admin can redeliver.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_BASE_SECONDS = env.int("WEBHOOK_BACKOFF_BASE_SECONDS", default=30)
WEBHOOK_BACKOFF_MAX_SECONDS = env.int("WEBHOOK_BACKOFF_MAX_SECONDS", default=6 * 3600)
# The sweep (`compliance.webhooks_redeliver`, every 30 s) leaves a new delivery to the task
# enqueued after commit for this long, so the two do not race for the first attempt.
WEBHOOK_SWEEP_GRACE = timedelta(seconds=env.int("WEBHOOK_SWEEP_GRACE_SECONDS", default=60))
# After a secret rotation deliveries carry a signature with the old secret too, for this long,
# so receivers can switch without losing events.
WEBHOOK_SECRET_ROTATION_GRACE = timedelta(hours=env.float("WEBHOOK_SECRET_ROTATION_GRACE_HOURS", default=24))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "compliance.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# Customer risk: a change to one customer re-evaluates its associates' contamination in
# the same request when there are at most this many, otherwise in a worker after commit
# (a holding company with thousands of associates must not slow down an API write).
RISK_CONTAMINATION_INLINE_LIMIT = env.int("RISK_CONTAMINATION_INLINE_LIMIT", default=25)

# Screening: a name match scoring at or above the threshold of its source kind is a hit (0-100,
# users/screening/matching.py). PEP lists are larger and noisier, so they need a closer match.
SCREENING_THRESHOLDS = {"SANCTIONS": 85, "PEP": 88, "WATCHLIST": 85, "ADVERSE_MEDIA": 88, "INTERNAL": 85}

# --- transaction monitoring ---------------------------------------------------------------
# Velocity sums and cross-currency thresholds compare amounts converted to this currency
# through the ExchangeRate table (admin: Transactions > Exchange rates).
BASE_CURRENCY = env.str("BASE_CURRENCY", default="USD")
# Active rule instances are compiled once per process and reloaded when an instance changes
# (a generation counter in the cache); this bounds how stale a process may be if the cache
# was unreachable when the change was announced.
RULES_CACHE_MAX_AGE_SECONDS = env.int("RULES_CACHE_MAX_AGE_SECONDS", default=30)

# --- cases ----------------------------------------------------------------------------------
# Largest file an analyst or integrator may attach to a case or an alert (POST /api/management/files
# answers 413 beyond it): evidence is documents and screenshots, not archives.
CASE_FILE_MAX_BYTES = env.int("CASE_FILE_MAX_BYTES", default=20 * 1024 * 1024)
# `ruleHitMeta.falsePositiveDetails` of a hit: over the rule's alerts on the same user closed in the
# last CASE_FALSE_POSITIVE_LOOKBACK_DAYS, at least CASE_FALSE_POSITIVE_MIN_CLOSED closed and at
# least CASE_FALSE_POSITIVE_SHARE of them as "False positive" mark the hit a likely false positive.
CASE_FALSE_POSITIVE_LOOKBACK_DAYS = env.int("CASE_FALSE_POSITIVE_LOOKBACK_DAYS", default=180)
CASE_FALSE_POSITIVE_MIN_CLOSED = env.int("CASE_FALSE_POSITIVE_MIN_CLOSED", default=3)
CASE_FALSE_POSITIVE_SHARE = env.float("CASE_FALSE_POSITIVE_SHARE", default=0.8)

# --- batch ingestion (seed 002, transactions/batches.py) ------------------------------------
# At most BATCH_MAX_ITEMS items in one posted batch (more is a 400 naming `data`); the workers
# apply a batch BATCH_CHUNK_SIZE items per Celery task. The batch endpoints' per-credential rate
# is REST_FRAMEWORK's "batch" scope (API_BATCH_RATE_LIMIT), on top of the general one.
BATCH_MAX_ITEMS = env.int("BATCH_MAX_ITEMS", default=10_000)
BATCH_CHUNK_SIZE = env.int("BATCH_CHUNK_SIZE", default=500)
# An unfinished batch with no item applied for BATCH_RESUME_AFTER_SECONDS has its pending chunks
# queued again by the `transactions.resume_batches` beat job (broker down at post, worker lost).
BATCH_RESUME_AFTER_SECONDS = env.int("BATCH_RESUME_AFTER_SECONDS", default=300)
# A batch's body may be this large (a 413 beyond), instead of DATA_UPLOAD_MAX_MEMORY_SIZE's 2.5 MB.
BATCH_MAX_BODY_BYTES = env.int("BATCH_MAX_BODY_BYTES", default=64 * 1024 * 1024)

# --- benchmarks -----------------------------------------------------------------------------
# Routes POST /api/bench/ping (transactions/bench.py), the trivial authenticated endpoint that
# `make bench-transactions` measures beside the transactions. Off everywhere but there.
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)
