"""All settings, read from the environment in this one module.

Defaults give the embedded set-up (SQLite under var/, no other service). Production sets
DATABASE_URL, SECRET_KEY, ALLOWED_HOSTS and HTTPS=true; see README "Configuration".
"""

import logging
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DCC_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """Use SECRET_KEY if given; otherwise keep a random one in var/ so sessions survive restarts."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Behind TLS (production) every cookie is secure and plain HTTP is redirected.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Behind the reverse proxy its X-Forwarded-Proto says HTTPS, and the last X-Forwarded-For entry
# is the caller's address (sign-in throttling counts by it: accounts.throttle).
DCC_BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if DCC_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy of every answer (dcc_site.middleware.ContentSecurityPolicyMiddleware).
# Scripts come only from our own static files (vendored, no CDN; no inline script, no eval:
# htmx runs with allowEval off). Style sheets likewise; style *attributes* are allowed
# (style-src-attr) because widths drawn from data (progress bars) are written as attributes,
# and an attribute holds no selector, so it cannot read the page. Charts draw on canvas.
# data: images are Bootstrap's icons embedded in its style sheet.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs page from its own static files, not a CDN
    "django_tasks",
    "django_tasks_db",
    "django_guid",
    "django_prometheus",
    "dcc_site",
    "accounts",
    "leads",
    "privacy",
    "intake",
    "calls",
    "owners",
    "audit",
    "campaigns",
    "kpi",
    "platforms",
    "sms",
]

MIDDLEWARE = [
    # Request latency by view, every request (dcc_site.probes serves /metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # The request id: X-Request-ID as the proxy sent it, or a new one; in the answer's header
    # and in every log line written while the request is served.
    "django_guid.middleware.guid_middleware",
    # /healthz, /readyz and /metrics answer here, before the host check and the HTTPS redirect:
    # load balancers and Prometheus ask by address, over plain HTTP on the private network.
    "dcc_site.probes.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "dcc_site.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "dcc_site.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "dcc_site.middleware.TokenThrottleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dcc_site.middleware.CurrentDealerMiddleware",
    "dcc_site.middleware.NulRefusalMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dcc_site.middleware.RefusalPageMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "dcc_site.urls"
WSGI_APPLICATION = "dcc_site.wsgi.application"

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
                "django.template.context_processors.i18n",
                "dcc_site.context_processors.workbench",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'dcc.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer holds the lock (a read never waits for it);
    # IMMEDIATE makes writers queue for the lock at BEGIN instead of failing half-way through
    # a transaction, for up to `timeout` seconds. Long jobs (imports, `ledger tallies
    # --rebuild`) write in short transactions, so that no writer waits that long.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that tests of concurrent writers see real locking.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-dcc.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Counters that must hold across processes (webhook rate limits, sign-in throttling) live in
# the cache: with several processes serving DCC, REDIS_URL points them all at one Redis.
# Without it each process counts on its own, in memory (fine for the embedded set-up).
if REDIS_URL := os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    # Every request reads its session (the call panel's poll several times a second per
    # agent): from Redis, with the database behind it so a Redis restart signs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.Staff"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [Path(os.environ.get("DCC_LOCALE_DIR", BASE_DIR / "locale"))]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the app folders too, so the embedded set-up works without collectstatic.
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}


# Background work (file imports) is queued in the database; `dcc serve` runs a worker thread
# unless DCC_TASK_WORKER=external, where `dcc db_worker` processes run it instead.
TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
DCC_TASK_WORKER = os.environ.get("DCC_TASK_WORKER", "embedded").strip().lower()

# Call recordings fetched from the providers (their addresses expire), kept per dealer's
# retention period (calls.recordings).
DCC_RECORDING_DIR = Path(os.environ.get("DCC_RECORDING_DIR", str(VAR_DIR / "recordings")))

# The key that signs the ledger's checkpoints (leads.signing), kept out of the database so that
# whoever can write to it cannot forge one. Ed25519 when DCC_LEDGER_SIGNING_KEY names a private
# key file (`dcc ledger keygen`): whoever holds the public key checks an export without being
# able to sign. Otherwise HMAC-SHA256 with DCC_LEDGER_KEY, or else with a random key kept in
# var/ledger_key (made on first use, mode 0600). DCC_LEDGER_PUBLIC_KEYS: public key files of
# retired Ed25519 keys, so older checkpoints can still be checked after a rotation.
DCC_LEDGER_KEY = os.environ.get("DCC_LEDGER_KEY", "")
DCC_LEDGER_KEY_FILE = Path(os.environ.get("DCC_LEDGER_KEY_FILE", str(VAR_DIR / "ledger_key")))
DCC_LEDGER_SIGNING_KEY = os.environ.get("DCC_LEDGER_SIGNING_KEY", "")
DCC_LEDGER_PUBLIC_KEYS = env_list("DCC_LEDGER_PUBLIC_KEYS", "")

# Uploaded import files, kept so that an import can be run again or for real after a dry run.
DCC_IMPORT_DIR = VAR_DIR / "imports"
DCC_IMPORT_MAX_MB = int(os.environ.get("DCC_IMPORT_MAX_MB", "200"))
# The largest request body held in memory (API calls, webhooks, forms): beyond it the answer is
# 413 stating this limit (dcc_site.refusals.bad_request). Import files stream to disk and are not
# counted here.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB


def _refusal_in_one_line(record: logging.LogRecord) -> bool:
    """Django logs a refused request (403, 404, 400, 413) with the exception's traceback; a
    refusal is not a fault, so the log keeps its one line. Server errors keep theirs."""
    if getattr(record, "status_code", 500) < 500:
        record.exc_info = None
        record.exc_text = None
    return True


# The request id (django-guid): X-Request-ID in and out, 32 hex digits (nginx's $request_id);
# anything else sent is replaced by a new one.
DJANGO_GUID = {"GUID_HEADER_NAME": "X-Request-ID", "EXPOSE_HEADER": False}

# Logs go to standard error (journald or the process manager keeps them), one line per record,
# each with the request id of the request it was written in ("-" outside a request).
# DCC_LOG_FORMAT=json writes JSON lines for a log collector; "text" (the default) reads easier.
DCC_LOG_FORMAT = os.environ.get("DCC_LOG_FORMAT", "text").strip().lower()
LOG_FORMATTERS = {
    "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    },
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "refusal_in_one_line": {"()": lambda: _refusal_in_one_line},
        "request_id": {"()": "dcc_site.logs.RequestIdFilter"},
    },
    "formatters": {"chosen": LOG_FORMATTERS.get(DCC_LOG_FORMAT, LOG_FORMATTERS["text"])},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["refusal_in_one_line", "request_id"],
            "formatter": "chosen",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # It says at INFO, for every request, that it made an id: noise.
    "loggers": {"django_guid": {"level": "WARNING"}},
}

# /metrics (dcc_site.probes): answered to loopback callers not behind the proxy, or to whoever
# sends `Authorization: Bearer DCC_METRICS_TOKEN`. With several web processes, each writes its
# figures to PROMETHEUS_MULTIPROC_DIR (emptied before they start) and /metrics adds them up.
DCC_METRICS_TOKEN = os.environ.get("DCC_METRICS_TOKEN", "")

# Domain defaults a dealer can change in its settings.
DCC_DEFAULT_SLA_MINUTES = int(os.environ.get("DCC_DEFAULT_SLA_MINUTES", "15"))
# Managers' dashboards share their figures for this many seconds (kpi.shared): with many people
# on one dealer's dashboards each count is made once, not once a page. 0 (the embedded
# default): counted for every page.
DCC_FIGURES_SECONDS = int(os.environ.get("DCC_FIGURES_SECONDS", "0"))
DCC_VERBOSE_NAME = _("DCC lead pipeline")
