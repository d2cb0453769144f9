"""The notifications' Celery tasks: thin wrappers that take ids and call a
service. They import the services inside their bodies, and the services
import this module at the top, so the two never import each other in a
cycle.

The tasks are idempotent (the delivery ledger's conditional updates), so
they are acknowledged late and requeued when their worker dies: a message is
never lost with a SIGKILLed child, and a second run does nothing. They keep
the names they were registered under before they moved here, so messages
queued by an earlier release still find them.
"""

from __future__ import annotations

from celery import shared_task

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


# The ledger bounds the attempts (SLA_EMAIL_MAX_ATTEMPTS), not Celery. A
# delivery another worker holds is looked at again when its lease ends. Run
# in-process (the demo) nothing would wait for a countdown: the row stays
# pending for the next run instead.
@shared_task(name="reports.tasks.deliver", bind=True, max_retries=None, **IDEMPOTENT)
def deliver(self, delivery_id: int) -> str:
    from .ledger import Result, delivery_send

    outcome = delivery_send(delivery_id=delivery_id)
    if outcome.result in (Result.RETRY, Result.IN_FLIGHT) and not self.request.is_eager:
        raise self.retry(countdown=outcome.countdown)
    return outcome.result.value


@shared_task(name="reports.tasks.deliver_batch", **IDEMPOTENT)
def deliver_batch(delivery_ids: list[int]) -> dict[str, int]:
    """Several deliveries over one mail connection; any that fails for a
    while goes back to the queue on its own (``deliver``)."""
    from .ledger import deliveries_send_batch

    counts = deliveries_send_batch(list(delivery_ids))
    return {result.value: n for result, n in counts.items() if n}


@shared_task(name="reports.tasks.month_close_due", **IDEMPOTENT)
def month_close_due() -> int:
    from .jobs import months_close_due

    return len(months_close_due())


@shared_task(name="reports.tasks.reminders_due", **IDEMPOTENT)
def reminders_due() -> int:
    from .jobs import reminders_due

    return len(reminders_due())


@shared_task(name="reports.tasks.at_risk_alerts_due", **IDEMPOTENT)
def at_risk_alerts_due() -> int:
    from .jobs import at_risk_alerts_due

    return len(at_risk_alerts_due())


@shared_task(name="reports.tasks.reconcile", **IDEMPOTENT)
def reconcile() -> int:
    from .jobs import reconcile

    return len(reconcile().months_closed)


@shared_task(name="reports.tasks.event_summaries_due", **IDEMPOTENT)
def event_summaries_due() -> int:
    from .jobs import event_summaries_due

    return len(event_summaries_due())


@shared_task(name="reports.tasks.reviews_due", **IDEMPOTENT)
def reviews_due() -> int:
    from .notices import reviews_due

    return reviews_due()


@shared_task(name="reports.tasks.notifications_clear_old", **IDEMPOTENT)
def notifications_clear_old() -> int:
    from .inbox import notifications_clear_old

    return notifications_clear_old()


# Like ``deliver``: the channel ledger bounds the attempts.
@shared_task(
    name="reports.tasks.deliver_to_channel", bind=True, max_retries=None, **IDEMPOTENT
)
def deliver_to_channel(self, delivery_id: int) -> str:
    from .channels.send import channel_delivery_send
    from .ledger import Result

    outcome = channel_delivery_send(delivery_id=delivery_id)
    if outcome.result == Result.RETRY and not self.request.is_eager:
        raise self.retry(countdown=outcome.countdown)
    return outcome.result.value


@shared_task(name="reports.tasks.held_release", **IDEMPOTENT)
def held_release() -> int:
    from .jobs import held_release

    return held_release()
