"""WSGI entry point for waitress (embedded) or any WSGI server (production)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dcc.settings")
application = get_wsgi_application()
