"""Settings of the test site: Wagtail 8 with wagtail_photoguard, on SQLite in a temp dir.

pytest reads them through ``DJANGO_SETTINGS_MODULE`` (pyproject.toml). To run a
management command against this site from the repository root::

    .venv/bin/python -m django makemigrations wagtail_photoguard \
        --settings tests.wagtail_project.settings

Nothing here is for production: the secret key is random per process (or taken from
``PHOTOGUARD_TEST_SECRET_KEY``), and the database and media live in a temporary
directory removed when the process exits. ``PHOTOGUARD_TEST_POSTGRES=1`` runs the same
tests on PostgreSQL (see below).
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path

#: Every file the test site writes (database, media) goes under here. One directory
#: per process, so pytest-xdist workers never share a file.
RUNTIME_DIR = Path(tempfile.mkdtemp(prefix="photoguard-wagtail-test-"))
atexit.register(shutil.rmtree, RUNTIME_DIR, ignore_errors=True)

SECRET_KEY = os.environ.get("PHOTOGUARD_TEST_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["localhost", "testserver", "127.0.0.1"]

INSTALLED_APPS = [
    "tests.wagtail_project.school",
    "wagtail_photoguard",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.wagtail_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# A file database (not the in-memory default) for tests as well, so tests that use
# several threads get real SQLite locking. IMMEDIATE transactions take the write lock
# at BEGIN, as the core's SQLite catalogue does, so concurrent writers queue instead
# of failing when a read transaction tries to upgrade.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": RUNTIME_DIR / "site.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        "TEST": {"NAME": str(RUNTIME_DIR / "test.sqlite3")},
    }
}

# Opt-in: the same tests on PostgreSQL, the production database (DESIGN.md section 3).
# Needs psycopg (not a dependency); host, port, user and password come from libpq's own
# environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD), so none are written here.
if os.environ.get("PHOTOGUARD_TEST_POSTGRES") == "1":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PGDATABASE", "photoguard"),
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Europe/London"
LANGUAGE_CODE = "en-gb"
USE_I18N = True

STATIC_URL = "/static/"
STATIC_ROOT = RUNTIME_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = RUNTIME_DIR / "media"

# Fast, insecure hashing is fine for throwaway test users and saves seconds per login.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

WAGTAIL_SITE_NAME = "photoguard test school"
WAGTAILADMIN_BASE_URL = "http://testserver"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# The site's images are guarded: every rendition goes through photoguard.
WAGTAILIMAGES_IMAGE_MODEL = "school.SchoolImage"

# A master key made for this process only (a real site reads it from a file outside
# the project or from PHOTOGUARD_MASTER_KEY).
_KEY_FILE = RUNTIME_DIR / "keys" / "master.key"
_KEY_FILE.parent.mkdir(mode=0o700)
from photoguard_core.crypto import MasterKey  # noqa: E402

MasterKey.generate().save(_KEY_FILE)
PHOTOGUARD = {"DEFAULT_PURPOSE": "website", "MASTER_KEY_FILE": str(_KEY_FILE)}

# Originals live in photoguard's private storage, beside media rather than under it,
# so nothing that serves MEDIA_ROOT can serve an original (wagtail_photoguard.storage).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "photoguard_originals": {
        "BACKEND": "wagtail_photoguard.storage.PrivateOriginalsStorage",
        "OPTIONS": {"location": str(RUNTIME_DIR / "private" / "originals")},
    },
}
PHOTOGUARD["ORIGINALS_STORAGE"] = "photoguard_originals"
