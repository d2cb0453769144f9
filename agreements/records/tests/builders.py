"""An agreement measured from a source's requests, for the import tests."""

from __future__ import annotations

from decimal import Decimal

from agreements.calendars.services import calendar_create
from agreements.models import Agreement
from agreements.records.models import RecordSource
from agreements.tests.builders import active, objective_row


def answers_agreement(
    *, source: RecordSource, user, other_signer, consumer, **fields
) -> Agreement:
    """Active, from the source's team to ``consumer``: 90 % of requests
    answered within three hours, around the clock in Berlin."""
    calendar = calendar_create(
        name="Always, Berlin", time_zone="Europe/Berlin", always=True
    )
    return active(
        user=user,
        other_signer=other_signer,
        provider=source.team,
        consumer=consumer,
        objectives=[
            objective_row(
                "Answers within 3 business hours",
                metric_source="request_times",
                unit="percent",
                target=Decimal(90),
                measure={
                    "source": source,
                    "calendar": calendar,
                    "event": "first_response",
                    "target": 180,  # minutes
                },
            )
        ],
        **fields,
    )
