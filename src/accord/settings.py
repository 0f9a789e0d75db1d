"""Accord's one settings file. Every setting comes from an ``ACCORD_*`` environment variable
with a safe default, read through the typed helpers in ``accord.core.env``."""

from __future__ import annotations

from pathlib import Path

from accord.core.env import (
    env_bool,
    env_int,
    env_list,
    env_str,
    load_or_create_secret_key,
    parse_database_url,
)

PACKAGE_DIR = Path(__file__).resolve().parent
# A source checkout keeps its data in ./var next to src/; installs should set ACCORD_DATA_DIR.
DATA_DIR = Path(env_str("ACCORD_DATA_DIR", str(PACKAGE_DIR.parent.parent / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("ACCORD_DEBUG", False)
SECRET_KEY = env_str("ACCORD_SECRET_KEY", "") or load_or_create_secret_key(DATA_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ACCORD_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("ACCORD_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("ACCORD_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "accord.core",
    "accord.crm",
    "accord.campaigns",
    "accord.scoring",
    "accord.dedup",
    "accord.outreach",
    "accord.handoff",
    "accord.reports",
    "accord.knowledge",
    "accord.intake",
    "accord.integrations",
    "accord.worker",
    "accord.notifications",
    "accord.teamwork",
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

ROOT_URLCONF = "accord.urls"
WSGI_APPLICATION = "accord.wsgi.application"

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
                "accord.notifications.context.unread_count",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url(env_str("ACCORD_DATABASE_URL", ""), DATA_DIR / "accord.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed logins allowed per username and per client address inside the window.
LOGIN_ATTEMPT_LIMIT = env_int("ACCORD_LOGIN_ATTEMPT_LIMIT", 5)
LOGIN_ATTEMPT_WINDOW_SECONDS = env_int("ACCORD_LOGIN_ATTEMPT_WINDOW_SECONDS", 15 * 60)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("ACCORD_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("ACCORD_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves the apps' static files straight from their directories (USE_FINDERS below)
# and warns on every start when STATIC_ROOT, where `accord collectstatic` would put them for a
# proxy, does not exist yet.
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"

# Phones without a country code are read as numbers of this region (ISO 3166 alpha-2).
ACCORD_DEFAULT_PHONE_REGION = env_str("ACCORD_DEFAULT_PHONE_REGION", "US").upper()
# Request bodies and uploads: large enough for a contact CSV, small enough to refuse abuse.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ACCORD_MAX_REQUEST_BYTES", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
ACCORD_MAX_IMPORT_BYTES = env_int("ACCORD_MAX_IMPORT_BYTES", 50 * 1024 * 1024)
ACCORD_PAGE_SIZE = env_int("ACCORD_PAGE_SIZE", 50)

EMAIL_BACKEND = env_str("ACCORD_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("ACCORD_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("ACCORD_SMTP_PORT", 25)
EMAIL_HOST_USER = env_str("ACCORD_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("ACCORD_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("ACCORD_SMTP_STARTTLS", False)
DEFAULT_FROM_EMAIL = env_str("ACCORD_FROM_EMAIL", "accord@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("ACCORD_LOG_LEVEL", "WARNING")},
}

NINJA_PAGINATION_PER_PAGE = ACCORD_PAGE_SIZE

# The background worker (accord worker): how long a claimed job is held before another worker
# may take it over, the retry backoff (base doubles per failed attempt, up to the cap), and how
# long finished jobs are kept.
ACCORD_WORKER_LEASE_SECONDS = env_int("ACCORD_WORKER_LEASE_SECONDS", 300)
ACCORD_WORKER_RETRY_BASE_SECONDS = env_int("ACCORD_WORKER_RETRY_BASE_SECONDS", 30)
ACCORD_WORKER_RETRY_MAX_SECONDS = env_int("ACCORD_WORKER_RETRY_MAX_SECONDS", 6 * 3600)
ACCORD_WORKER_KEEP_DAYS = env_int("ACCORD_WORKER_KEEP_DAYS", 7)
