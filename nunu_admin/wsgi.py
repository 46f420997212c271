"""WSGI entry point: `gunicorn nunu_admin.wsgi -c gunicorn.conf.py`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nunu_admin.settings")

application = get_wsgi_application()
