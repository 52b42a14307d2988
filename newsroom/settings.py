"""Settings for the newsroom live-story CMS. One file, as healthchecks keeps its own,
though past 300 lines: each setting sits beside the comment that says why.

Everything a deployment changes comes from environment variables, read through the
small helpers below that refuse bad values instead of guessing. The defaults are for a
developer's laptop: SQLite in the checkout, a file cache in var/, DEBUG on. They are
safe with several processes on this machine (gunicorn's workers, manage.py commands);
several machines need PostgreSQL and Redis.
"""

import os
import re
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envlist(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def envorigins(name):
    origins = envlist(name, [])
    for origin in origins:
        if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?", origin):
            raise ImproperlyConfigured(
                f"{name}: {origin!r} is not an origin like https://example.com"
            )
    return origins


def envorigin(name):
    origins = envorigins(name)
    if len(origins) > 1:
        raise ImproperlyConfigured(f"{name} is one origin like https://example.com, not a list")
    return origins[0] if origins else ""


def envtimezone(name, default):
    value = os.environ.get(name) or default
    if value not in zoneinfo.available_timezones():
        raise ImproperlyConfigured(f"{name} must be an IANA time zone, not {value!r}")
    return value


DEBUG = envbool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "newsroom.apps.AdminConfig",  # django.contrib.admin on the project's own site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "csp",
    "simple_history",
    "axes",
    # Second factors (issue 19): django-otp's devices (TOTP, recovery codes) and
    # django-two-factor-auth's sign-in and enrolment pages, with its WebAuthn plugin.
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "two_factor.plugins.webauthn",
    "crispy_forms",
    "crispy_bootstrap5",
    "liveblog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files with hashed names and year-long cache lifetimes, before anything else.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads the query string (the answer still gets the CSP headers).
    "liveblog.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "liveblog.middleware.SurrogateKeyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed a second factor.
    "django_otp.middleware.OTPMiddleware",
    # While STAFF_REQUIRE_2FA is on, a password-only session reaches the second-factor
    # pages and nothing else.
    "liveblog.accounts.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin logins: after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair waits AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"
ASGI_APPLICATION = "newsroom.asgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections, checked before each request reuses one, so the app
        # recovers by itself when the database restarts.
        conn_max_age=envint("CONN_MAX_AGE", 0 if DEBUG else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes write (gunicorn's workers, manage.py commands): readers never
    # wait for a writer (WAL), and a write transaction takes the lock when it begins,
    # so a busy database makes it wait up to `timeout` seconds instead of failing with
    # "database is locked" halfway through. Options in DATABASE_URL (?timeout=5) win.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            # Django's Redis backend, but a Redis that is down reads as a cache miss
            # (logged) instead of an error page: pages come from the database until
            # it is back, and its client reconnects by itself.
            "BACKEND": "liveblog.redis_cache.ResilientRedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "newsroom",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
else:
    # Files on this machine's disk, shared by every process: the version a save
    # publishes from `manage.py shell`, a command or one gunicorn worker is what every
    # worker reads next. A local-memory cache would be private to each process, which
    # would serve its own stale version and first page for hours. So there is no
    # single-process option: even beside `runserver`, `manage.py shell` or
    # `render_entries` is another process.
    # Entries are compressed first pages and version numbers. MAX_ENTRIES bounds the
    # directory (every write counts its files); past it a third are dropped at random,
    # which costs a render or a database read, never a stale answer.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(Path(os.environ.get("CACHE_DIR") or BASE_DIR / "var/cache").resolve()),
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The newsroom's home zone: new stories default to it and the admin shows times in it.
TIME_ZONE = envtimezone("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed names and minified scripts in production (after
        # collectstatic); plain in development.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "liveblog.staticfiles.MinifiedManifestStaticFilesStorage"
    },
}
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

FIXTURE_DIRS = [BASE_DIR / "fixtures"]
# Where `manage.py backup` (make backup) writes its archives.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR") or BASE_DIR / "var/backups")

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# --- Sign-in -------------------------------------------------------------------------
# A stolen password alone must not publish: with STAFF_REQUIRE_2FA on, signing in asks
# for a second factor (an authenticator app's code, a passkey or security key, or a
# single-use recovery code), and a login without one reaches only the pages that enrol
# or ask for it. Off by default only while DEBUG is on (the `make run` demo).
STAFF_REQUIRE_2FA = envbool("STAFF_REQUIRE_2FA", not DEBUG)
# A session ends after this many hours without a request (a working day by default);
# each staff page seen starts the count again (liveblog/accounts.py).
STAFF_SESSION_IDLE_HOURS = envint("STAFF_SESSION_IDLE_HOURS", 10)
SESSION_COOKIE_AGE = STAFF_SESSION_IDLE_HOURS * 3600
# The name authenticator apps and passkey managers show for this site.
TWO_FACTOR_WEBAUTHN_RP_NAME = os.environ.get("TWO_FACTOR_RP_NAME", "Newsroom")
# Passkeys belong to a host name (the relying party): the site's own by default (the
# request's host); set it when the desk is served under several names.
TWO_FACTOR_WEBAUTHN_RP_ID = os.environ.get("TWO_FACTOR_RP_ID") or None
# django-two-factor-auth would replace every admin site's login with a redirect to
# LOGIN_URL, which is the admin's own: newsroom/admin.py chooses the login itself.
TWO_FACTOR_PATCH_ADMIN = False
# Password then second factor must be done within 10 minutes.
TWO_FACTOR_LOGIN_TIMEOUT = 600

# --- HTTP security -------------------------------------------------------------------
# Safe defaults that production needs no variable for; development (DEBUG on) serves
# plain HTTP on 127.0.0.1. Behind a proxy that terminates TLS, set
# SECURE_PROXY_SSL_HEADER=true so Django knows the request came over HTTPS.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preloading commits every subdomain to HTTPS for years and is hard to undo: a
    # newsroom opts in with SECURE_HSTS_PRELOAD=true; not asking is not a warning.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
if envbool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # the embed view alone allows framing, by its own policy
# Scripts and styles only from this site; a template that needs an inline script gives
# it nonce="{{ request.csp_nonce }}" (and is then not a page to cache whole).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *envorigins("MEDIA_ORIGINS")],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Caches in front (a CDN, Varnish) are told to forget a story when it changes: a
# request with LIVEBLOG_PURGE_METHOD to this URL, carrying the story's surrogate key,
# queued when the change commits and sent by a worker (see liveblog/purge.py). Empty: no
# purge (caches expire answers by themselves).
LIVEBLOG_PURGE_URL = os.environ.get("LIVEBLOG_PURGE_URL", "")
LIVEBLOG_PURGE_METHOD = os.environ.get("LIVEBLOG_PURGE_METHOD", "PURGE")
# Seconds to wait for the purge endpoint's answer before trying again later.
LIVEBLOG_PURGE_TIMEOUT = envint("LIVEBLOG_PURGE_TIMEOUT", 2)
# Keys that may wait at once; past it new keys are dropped (logged) and expire by themselves.
LIVEBLOG_PURGE_QUEUE_LIMIT = envint("LIVEBLOG_PURGE_QUEUE_LIMIT", 1000)
# Each app process sends purges from a thread of its own; turn off when
# `manage.py send_purges` runs as a service instead.
LIVEBLOG_PURGE_IN_PROCESS = envbool("LIVEBLOG_PURGE_IN_PROCESS", True)
# Each app process makes photo renditions in a thread after the publish has answered
# (liveblog/renditions.py); false when `manage.py make_renditions` runs instead.
LIVEBLOG_RENDITIONS_IN_PROCESS = envbool("LIVEBLOG_RENDITIONS_IN_PROCESS", True)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# How many entries a page of a story shows; older ones are a "Load older updates" away.
LIVEBLOG_PAGE_SIZE = envint("LIVEBLOG_PAGE_SIZE", 30)
# Seconds between a reader's polls for updates; raise it to slow clients down in a spike.
LIVEBLOG_POLL_INTERVAL = envint("LIVEBLOG_POLL_INTERVAL", 10)
# How long caches in front may keep a story page and an updates answer (seconds).
LIVEBLOG_PAGE_MAX_AGE = envint("LIVEBLOG_PAGE_MAX_AGE", 10)
LIVEBLOG_UPDATES_MAX_AGE = envint("LIVEBLOG_UPDATES_MAX_AGE", 4)
# The publisher named in structured data and feeds.
LIVEBLOG_PUBLISHER = os.environ.get("LIVEBLOG_PUBLISHER", "Newsroom")
# The address pages name as theirs (canonical link, social cards, structured data), like
# https://news.example.com; empty: the host each request names. Needed with a wildcard in
# ALLOWED_HOSTS (.example.com), where each host name would get first pages of its own.
LIVEBLOG_CANONICAL_ORIGIN = envorigin("LIVEBLOG_CANONICAL_ORIGIN")
# A story's picture when none of its entries has a photo (og:image, structured data):
# an absolute URL, or a path among the static files.
LIVEBLOG_DEFAULT_IMAGE = os.environ.get("LIVEBLOG_DEFAULT_IMAGE", "liveblog/default-image.png")
# Origins allowed to put a story's embed view in a frame ("https://partner.example");
# no other page may be framed at all.
LIVEBLOG_EMBED_ORIGINS = envorigins("LIVEBLOG_EMBED_ORIGINS")
# A reader further behind than this many changes reloads the page instead.
LIVEBLOG_MAX_CHANGES = envint("LIVEBLOG_MAX_CHANGES", 200)
# The longest entry body the desk and the admin take, in characters: far beyond any real
# live update (the demo's longest is 1,500), and what every page and feed would carry.
LIVEBLOG_MAX_BODY_CHARS = envint("LIVEBLOG_MAX_BODY_CHARS", 20_000)
# Readers' questions and tips (issue 17). Counted in the shared cache, so every process
# and machine counts together: per address (as django-axes sees it) and per story, in
# windows of LIVEBLOG_ASK_WINDOW seconds.
LIVEBLOG_ASK_WINDOW = envint("LIVEBLOG_ASK_WINDOW", 600)
LIVEBLOG_ASK_PER_ADDRESS = envint("LIVEBLOG_ASK_PER_ADDRESS", 3)
LIVEBLOG_ASK_PER_STORY = envint("LIVEBLOG_ASK_PER_STORY", 300)
# Questions waiting at the desk, per story, past which a story takes no more for now.
LIVEBLOG_ASK_QUEUE_LIMIT = envint("LIVEBLOG_ASK_QUEUE_LIMIT", 500)
# The longest question or tip, in characters.
LIVEBLOG_ASK_MAX_CHARS = envint("LIVEBLOG_ASK_MAX_CHARS", 1_000)
# Days a reader's e-mail address is kept (manage.py expire_submission_emails).
LIVEBLOG_ASK_RETENTION_DAYS = envint("LIVEBLOG_ASK_RETENTION_DAYS", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "liveblog": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Django's default configuration gives "django" a console handler of its own
        # (shown while DEBUG is on) and lets it propagate to the root's: every line was
        # printed twice. Configuring it here drops that handler; the root prints them.
        "django": {"level": "INFO"},
    },
}
