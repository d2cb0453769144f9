"""The Celery application: ``celery -A slaportal worker`` / ``beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")

app = Celery("slaportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Feature packages with tasks of their own, inside an app.
app.autodiscover_tasks(["reports.notifications", "agreements.records"])
