import os

from django.core.asgi import get_asgi_application

from config.embedded_db import ensure_database_url
from config.embedded_redis import ensure_redis_url

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
ensure_database_url()
ensure_redis_url()
application = get_asgi_application()
