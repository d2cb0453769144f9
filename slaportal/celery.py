"""The Celery application: ``celery -A slaportal worker`` / ``beat``."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")

app = Celery("slaportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Feature packages with tasks of their own, inside an app.
app.autodiscover_tasks(["reports.notifications", "agreements.records"])


@worker_ready.connect
def _heartbeat_on_start(sender, **kwargs) -> None:
    """A worker that has just started says so at once, rather than at beat's
    next heartbeat, up to 5 minutes later: /health/ counts it alive."""
    from reports.services import heartbeat_record

    heartbeat_record(hostname=getattr(sender, "hostname", "") or "worker")
