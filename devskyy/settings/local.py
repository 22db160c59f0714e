"""Development settings: ``make run`` and ``manage.py`` default to these."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
# Development only; production settings refuse to start without DJANGO_SECRET_KEY.
SECRET_KEY = SECRET_KEY or "django-insecure-local-development-only"  # noqa: F405
