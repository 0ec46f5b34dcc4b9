"""Settings, all from the environment (see governance/env.py and README "Configuration").

Unset, everything falls back to the embedded setup: SQLite under GOVERNANCE_DATA_DIR,
tasks run inline, mails written as files. Production sets the variables explicitly.
"""

import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from governance.env import database_from_url, env_bool, env_int, env_list, env_str
from governance.limits import LARGEST_BODY_BYTES

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)

DATA_DIR = Path(env_str("GOVERNANCE_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


# Keys published in examples and templates: anyone could sign sessions and hash addresses with them.
_PLACEHOLDER_KEYS = {"change-me-in-production", "changeme", "change-me", "secret", "secret-key", "your-secret-key"}


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key and not DEBUG:
        placeholder = key.strip().lower() in _PLACEHOLDER_KEYS or key.startswith("django-insecure")
        # Django's own deployment check (security.W009) asks for 50 characters, 5 of them different.
        if placeholder or len(key) < 50 or len(set(key)) < 5:
            raise ImproperlyConfigured(
                "SECRET_KEY is a placeholder or too short: set SECRET_KEY (or SECRET_KEY_FILE) to a random value "
                "of at least 50 characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'"
            )
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set SECRET_KEY (or SECRET_KEY_FILE), or DJANGO_DEBUG=1 for local use"
        )
    # Local use only: one random key kept under the data dir, so sessions survive restarts.
    key_file = DATA_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

# The portal's address, for links in mails (`make run` sets it from HOST and PORT).
PUBLIC_BASE_URL = (env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")

# In debug, also the host of PUBLIC_BASE_URL: `make run HOST=0.0.0.0 PUBLIC_BASE_URL=http://mybox.lan:8000` opens.
_PUBLIC_HOST = urlsplit(PUBLIC_BASE_URL).hostname or "localhost"
_LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", f"[{_PUBLIC_HOST}]" if ":" in _PUBLIC_HOST else _PUBLIC_HOST]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", list(dict.fromkeys(_LOCAL_HOSTS)) if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "governance",
    "optout",
    "audits",
    "releases",
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
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"

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

DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'governance.sqlite3'}"
DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
STATICFILES_DIRS = [BASE_DIR / "governance" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Mail (Django 6.1 MAILERS): one .eml file per message under the data dir, its links printed on the console
# (governance/mail.py), unless an SMTP host is configured.
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587, minimum=1),
                "username": env_str("EMAIL_HOST_USER", "") or None,
                "password": env_str("EMAIL_HOST_PASSWORD", "") or None,
                "use_tls": env_bool("EMAIL_USE_TLS", default=True),
                "timeout": 30,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "governance.mail.EmlFileBackend",
            "OPTIONS": {"file_path": str(DATA_DIR / "mail")},
        }
    }
del EMAIL_HOST  # deprecated name in Django 6.1; only MAILERS is read
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "governance@localhost")

# Celery: no broker means tasks run inline, in the process that enqueues them.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or ""
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL or env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    # Celery takes a producer from its pool even for a task it runs inline; with no broker named, that pool's
    # connection would default to AMQP on localhost (kombu warns "No hostname was supplied"). In-process memory
    # instead: nothing ever connects, and CELERY_BROKER_URL stays empty, which is how the code tells inline mode.
    CELERY_BROKER_WRITE_URL = CELERY_BROKER_READ_URL = "memory://localhost/"
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "governance")
# Proof checks and scans have queues (and workers) of their own, so neither can starve the other or the default
# queue (imports, publication, mail); "Verify now" has one more, served by a worker no background check can hold.
# governance/celery.py routes the tasks.
PROOF_CHECKS_QUEUE = env_str("PROOF_CHECKS_QUEUE", "proofs")
PROOF_CHECKS_NOW_QUEUE = env_str("PROOF_CHECKS_NOW_QUEUE", "proofs-now")
SCANS_QUEUE = env_str("SCANS_QUEUE", "scans")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# A web request never hangs on a dead or silent broker: a send gives up within a few seconds, the row
# records "waiting for a worker" and the sweep sends it later (governance/queueing.py). Recovery after a
# lost worker comes from the rows (leases, heartbeats, sweeps), not from the visibility timeout above.
BROKER_TIMEOUT_SECONDS = env_int("BROKER_TIMEOUT_SECONDS", 3, minimum=1)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS |= {
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_timeout": BROKER_TIMEOUT_SECONDS + 5,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# How many proxies in front of the portal append to X-Forwarded-For (0: the header is ignored, anyone can write
# it). Every limit that counts by network address reads it through governance.network.client_address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# One cache for every process: the API's rates and the transparency report. Redis when a broker is configured
# (CACHE_URL may name another Redis), the database otherwise (its table is made by migration governance 0006).
CACHE_URL = env_str("CACHE_URL", "") or ""
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r}: use redis://host:6379/N, or leave it unset")
if CACHE_URL or CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "governance.cache.BrokerSafeRedisCache",
            "LOCATION": CACHE_URL or CELERY_BROKER_URL,
            "KEY_PREFIX": "governance",
            # A Redis that does not answer costs a page two seconds, never a hang (governance/cache.py).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "governance_cache"}}

# Django reads API bodies up to the largest limit an endpoint documents; each endpoint refuses more (413).
DATA_UPLOAD_MAX_MEMORY_SIZE = LARGEST_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_AUTHENTICATION_CLASSES": ["releases.api.authentication.PipelineTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": ["releases.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["releases.api.renderers.FastJSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["releases.api.throttles.PipelineOrAnonymousThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anonymous": env_str("API_ANONYMOUS_RATE", "120/min"),
        "pipeline": env_str("API_PIPELINE_RATE", "3000/min"),
    },
    "EXCEPTION_HANDLER": "releases.api.errors.api_exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dataset governance portal API",
    "DESCRIPTION": "Exclusion lists, batch checks and inventory for code datasets.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Inventory import: rows per database round trip.
INVENTORY_BATCH_SIZE = env_int("INVENTORY_BATCH_SIZE", 5000, minimum=1)

# What git may fetch besides https, ssh and git URLs of public hosts (governance/fetch_policy.py): `local`
# (file://), `private` (loopback and private addresses, IP literals), `http` (plain http); and host names that
# may resolve to private addresses (a forge on the internal network).
REPOSITORY_FETCH_ALLOW = [word.lower() for word in env_list("REPOSITORY_FETCH_ALLOW", [])]
if unknown_fetch_allow := set(REPOSITORY_FETCH_ALLOW) - {"local", "private", "http"}:
    raise ImproperlyConfigured(
        f"REPOSITORY_FETCH_ALLOW names {sorted(unknown_fetch_allow)[0]!r}: use a comma list of local, private, http"
    )
REPOSITORY_FETCH_HOSTS = [host.lower().strip("[]").rstrip(".") for host in env_list("REPOSITORY_FETCH_HOSTS", [])]
# Offline mode: only repositories on this disk are read, whatever the rest of the policy allows (`make run` turns it
# on, so the demo's github.com rows are never fetched by a worker or a sweep).
REPOSITORY_FETCH_OFFLINE = env_bool("REPOSITORY_FETCH_OFFLINE", default=False)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Status and confirmation links and pipeline tokens are secrets: masked in every line written.
    "filters": {"secrets_masked": {"()": "governance.log_masking.SecretsMasked"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["secrets_masked"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own handlers for these (runserver's access lines among them) would write unmasked: through ours.
    "loggers": {
        "django": {"level": "INFO", "propagate": True},
        # On the logger too, so that a record is masked before any handler sees it (another one added later).
        "django.server": {"level": "INFO", "propagate": True, "filters": ["secrets_masked"]},
    },
}
if CELERY_TASK_ALWAYS_EAGER:
    # A task run inline is part of the request or command that sent it, which says what happened; a line per
    # task that succeeded would bury that (the demo runs hundreds). Failures are still logged.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}

# Opt-out requests.
OPTOUT_AUTO_APPROVE = env_bool("OPTOUT_AUTO_APPROVE", default=True)
OPTOUT_PROOF_DAYS = env_int("OPTOUT_PROOF_DAYS", 14, minimum=1)
OPTOUT_CONFIRM_HOURS = env_int("OPTOUT_CONFIRM_HOURS", 48, minimum=1)
OPTOUT_MAX_REPOSITORIES = env_int("OPTOUT_MAX_REPOSITORIES", 1000, minimum=1)
OPTOUT_RECHECK_MINUTES = env_int("OPTOUT_RECHECK_MINUTES", 60, minimum=1)
OPTOUT_SUBMISSIONS_PER_IP_PER_HOUR = env_int("OPTOUT_SUBMISSIONS_PER_IP_PER_HOUR", 10, minimum=1)
OPTOUT_SUBMISSIONS_PER_EMAIL_PER_DAY = env_int("OPTOUT_SUBMISSIONS_PER_EMAIL_PER_DAY", 5, minimum=1)
OPTOUT_VERIFY_INTERVAL_SECONDS = env_int("OPTOUT_VERIFY_INTERVAL_SECONDS", 30, minimum=0)
OPTOUT_VERIFY_PER_IP_PER_HOUR = env_int("OPTOUT_VERIFY_PER_IP_PER_HOUR", 60, minimum=1)
OPTOUT_GIT_TIMEOUT_SECONDS = env_int("OPTOUT_GIT_TIMEOUT_SECONDS", 30, minimum=1)
# Budgets of proof checks (optout/budgets.py), so that no request and no host can hold the workers.
OPTOUT_CHECKS_PER_HOST = env_int("OPTOUT_CHECKS_PER_HOST", 2, minimum=1)
OPTOUT_HOST_BUSY_RETRY_SECONDS = env_int("OPTOUT_HOST_BUSY_RETRY_SECONDS", 5, minimum=1)
OPTOUT_CHECKS_PER_REQUEST = env_int("OPTOUT_CHECKS_PER_REQUEST", 2, minimum=1)
OPTOUT_CHECK_ROUND_SECONDS = env_int("OPTOUT_CHECK_ROUND_SECONDS", 120, minimum=1)
OPTOUT_CHECK_ROUND_EVERY_SECONDS = env_int("OPTOUT_CHECK_ROUND_EVERY_SECONDS", 300, minimum=0)
OPTOUT_UNREACHABLE_RETRIED_PER_REQUEST = env_int("OPTOUT_UNREACHABLE_RETRIED_PER_REQUEST", 10, minimum=1)
OPTOUT_VERIFY_NOW_TIMEOUT_SECONDS = env_int("OPTOUT_VERIFY_NOW_TIMEOUT_SECONDS", 10, minimum=1)
OPTOUT_VERIFY_NOW_CHECKS_PER_HOST = env_int("OPTOUT_VERIFY_NOW_CHECKS_PER_HOST", 1, minimum=1)
# A proof check sent to a worker is leased this long (renewed when it starts); a check whose worker died
# is due again when its lease ends, and the sweep (every OPTOUT_SWEEP_SECONDS) sends it again.
OPTOUT_CHECK_LEASE_SECONDS = env_int("OPTOUT_CHECK_LEASE_SECONDS", 60, minimum=5)
OPTOUT_SWEEP_SECONDS = env_int("OPTOUT_SWEEP_SECONDS", 30, minimum=1)
# The reservation check (optout/services/reservations.py): beat's sweep runs this often and sends at most this
# many checks; a repository read is read again after RECHECK_HOURS, one that could not be read (or whose check
# was sent and never recorded) after RETRY_MINUTES.
OPTOUT_RESERVATIONS_SWEEP_SECONDS = env_int("OPTOUT_RESERVATIONS_SWEEP_SECONDS", 600, minimum=1)
OPTOUT_RESERVATIONS_PER_SWEEP = env_int("OPTOUT_RESERVATIONS_PER_SWEEP", 200, minimum=1)
OPTOUT_RESERVATIONS_RECHECK_HOURS = env_int("OPTOUT_RESERVATIONS_RECHECK_HOURS", 24, minimum=1)
OPTOUT_RESERVATIONS_RETRY_MINUTES = env_int("OPTOUT_RESERVATIONS_RETRY_MINUTES", 60, minimum=1)

# Release signing: embedded mode makes its own key; production gives one (or sets AUTOCREATE on purpose).
SIGNING_KEY_FILE = env_str("GOVERNANCE_SIGNING_KEY_FILE", "") or ""
SIGNING_KEY_AUTOCREATE = env_bool("GOVERNANCE_SIGNING_KEY_AUTOCREATE", default=DEBUG)

# License audits (scancode).
AUDITS_MAX_FILE_BYTES = env_int("AUDITS_MAX_FILE_BYTES", 1_000_000, minimum=1)
AUDITS_FILE_TIMEOUT_SECONDS = env_int("AUDITS_FILE_TIMEOUT_SECONDS", 30, minimum=1)
AUDITS_FETCH_TIMEOUT_SECONDS = env_int("AUDITS_FETCH_TIMEOUT_SECONDS", 300, minimum=1)
AUDITS_MAX_FILES = env_int("AUDITS_MAX_FILES", 200_000, minimum=1)
AUDITS_NOTICE_CANDIDATES_MAX = env_int("AUDITS_NOTICE_CANDIDATES_MAX", 2000, minimum=0)
AUDITS_CHUNK_FILES = env_int("AUDITS_CHUNK_FILES", 25, minimum=1)
AUDITS_RESCANS_PER_RUN = env_int("AUDITS_RESCANS_PER_RUN", 50, minimum=1)
AUDITS_HEAD_CHECKS_PER_RUN = env_int("AUDITS_HEAD_CHECKS_PER_RUN", 500, minimum=1)
AUDITS_RESCAN_AFTER_HOURS = env_int("AUDITS_RESCAN_AFTER_HOURS", 24, minimum=1)
# A running scan whose heartbeat is older than this is taken as lost (live steps beat every quarter of it);
# the recovery sweep runs every AUDITS_SWEEP_SECONDS, the re-scan sweep (head checks) every AUDITS_RESCANS_SECONDS.
AUDITS_CHUNK_STALL_SECONDS = env_int("AUDITS_CHUNK_STALL_SECONDS", 60, minimum=4)
AUDITS_SWEEP_SECONDS = env_int("AUDITS_SWEEP_SECONDS", 30, minimum=1)
AUDITS_RESCANS_SECONDS = env_int("AUDITS_RESCANS_SECONDS", 900, minimum=1)
# A queued scan whose message may have been lost with the broker is sent again after this long.
AUDITS_QUEUE_RESEND_SECONDS = env_int("AUDITS_QUEUE_RESEND_SECONDS", 60, minimum=1)
# Load the license index in a worker's parent process before it forks (about 1.3 GB, shared by its children).
AUDITS_PRELOAD_INDEX = env_bool("AUDITS_PRELOAD_INDEX", default=True)

# Inventory imports: a running import silent this long is taken as lost; the sweep runs this often.
INVENTORY_IMPORT_STALL_SECONDS = env_int("INVENTORY_IMPORT_STALL_SECONDS", 60, minimum=4)
INVENTORY_SWEEP_SECONDS = env_int("INVENTORY_SWEEP_SECONDS", 30, minimum=1)

# Release notifications (webhooks): the sweep that sends due deliveries and retries runs this often.
WEBHOOK_SWEEP_SECONDS = env_int("WEBHOOK_SWEEP_SECONDS", 30, minimum=1)

# The public transparency report is computed at most once per this many seconds per dataset (in the shared cache
# above): at a million exclusions a computation takes seconds of database time.
TRANSPARENCY_CACHE_SECONDS = env_int("TRANSPARENCY_CACHE_SECONDS", 300, minimum=0)
