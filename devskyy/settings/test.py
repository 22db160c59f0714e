"""Settings for the test suite: same PostgreSQL kind as development (embedded or DATABASE_URL)."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "django-insecure-test-only"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

# Tests check revocation and expiry request by request; test_api_key_cache covers the cache.
API_KEY_CACHE_SECONDS = 0
ADMIN_FILTER_CHOICES_SECONDS = 0  # tests see the rows they write
