"""Celery tasks: thin wrappers that take ids and call a service.

The email tasks are idempotent (the delivery ledger's conditional updates),
so they are acknowledged late and requeued when their worker dies: a message
is never lost with a SIGKILLed child, and a second run does nothing.
"""

from __future__ import annotations

from celery import shared_task

from .notifications import jobs
from .notifications.ledger import Result, delivery_send
from .services import heartbeat_record

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(bind=True, ignore_result=True)
def heartbeat(self) -> int:
    return heartbeat_record(hostname=self.request.hostname or "in-process").pk


# The ledger bounds the attempts (SLA_EMAIL_MAX_ATTEMPTS), not Celery. A
# delivery another worker holds is looked at again when its lease ends. Run
# in-process (the demo) nothing would wait for a countdown: the row stays
# pending for the next run instead.
@shared_task(bind=True, max_retries=None, **IDEMPOTENT)
def deliver(self, delivery_id: int) -> str:
    outcome = delivery_send(delivery_id=delivery_id)
    if outcome.result in (Result.RETRY, Result.IN_FLIGHT) and not self.request.is_eager:
        raise self.retry(countdown=outcome.countdown)
    return outcome.result.value


@shared_task(**IDEMPOTENT)
def month_close_due() -> int:
    return len(jobs.months_close_due())


@shared_task(**IDEMPOTENT)
def reminders_due() -> int:
    return len(jobs.reminders_due())


@shared_task(**IDEMPOTENT)
def at_risk_alerts_due() -> int:
    return len(jobs.at_risk_alerts_due())


@shared_task(**IDEMPOTENT)
def reconcile() -> int:
    return len(jobs.reconcile().months_closed)
