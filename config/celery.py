"""The Celery app. Importing it has no side effects beyond reading Django settings lazily."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("momentmap")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
