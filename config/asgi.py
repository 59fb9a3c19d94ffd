import os

from django.core.asgi import get_asgi_application

from config.embedded_db import ensure_database_url

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
ensure_database_url()
application = get_asgi_application()
