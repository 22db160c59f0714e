"""WSGI entry point (served by ``python -m devskyy.serve``; runserver reads WSGI_APPLICATION)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devskyy.settings.production")

application = get_wsgi_application()
