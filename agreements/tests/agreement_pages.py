"""Helpers for the agreement page tests: the editor's POST bodies, the
pages' addresses, and a snapshot of what the services write."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from agreements.models import Agreement, Objective, Signature, Team
from agreements.tests.builders import default_start

HistoricalAgreement = Agreement.history.model


def objective_data(index: int, **values: Any) -> dict[str, str]:
    row = {
        "id": "",
        "name": f"Objective {index}",
        "metric_source": "manual",
        "comparator": "at_least",
        "target": "10",
        "unit": "count",
        "weight": "1",
        "warning_threshold": "",
        **values,
    }
    return {f"objectives-{index}-{k}": str(v) for k, v in row.items()}


def editor_data(
    *,
    provider: Team,
    consumer: Team,
    objectives: list[dict[str, Any]] = (),
    initial_forms: int = 0,
    **fields: Any,
) -> dict[str, str]:
    """The POST body of the editor: the agreement's fields plus the formset."""
    data = {
        "title": "Qualified leads for Sales",
        "provider": str(provider.pk),
        "consumer": str(consumer.pk),
        "summary": "",
        "effective_from": default_start().isoformat(),
        "effective_to": "",
        "review_on": "",
        "compensation_clause": "Make up the shortfall next month.",
        "remedy": "none",
        "remedy_credit": "",
        "objectives-TOTAL_FORMS": str(len(objectives)),
        "objectives-INITIAL_FORMS": str(initial_forms),
        "objectives-MIN_NUM_FORMS": "0",
        "objectives-MAX_NUM_FORMS": "30",
    }
    for index, values in enumerate(objectives):
        data |= objective_data(index, **values)
    data |= {k: str(v) for k, v in fields.items()}
    return data


def edit_data(agreement: Agreement, **fields: Any) -> dict[str, str]:
    """The editor's POST body as the page shows it for ``agreement``, with
    ``fields`` changed. ``objectives`` replaces the rows (pass ``id`` to keep
    one)."""
    agreement.refresh_from_db()
    stored = [
        {
            "id": o.pk,
            "name": o.name,
            "metric_source": o.metric_source,
            "comparator": o.comparator,
            "target": o.target,
            "unit": o.unit,
            "weight": o.weight,
            "warning_threshold": o.warning_threshold or "",
        }
        for o in agreement.objectives.all()
    ]
    objectives = fields.pop("objectives", stored)
    data = editor_data(
        provider=fields.pop("provider", agreement.provider),
        consumer=fields.pop("consumer", agreement.consumer),
        objectives=objectives,
        initial_forms=len(stored),
        title=agreement.title,
        compensation_clause=agreement.compensation_clause,
        edit_count=agreement.edit_count,
    )
    data |= {k: str(v) for k, v in fields.items()}
    return data


def errors_of(response) -> str:
    return response.content.decode()


def url(name: str, *args: Any) -> str:
    # The chain is coloured by scorecards: a page of the reports app.
    namespace = "reports" if name == "chain" else "agreements"
    return reverse(f"{namespace}:{name}", args=args)


def snapshot() -> tuple:
    """Everything the services write, to prove a refusal wrote nothing."""
    return (
        list(Agreement.objects.order_by("pk").values()),
        list(Objective.objects.order_by("pk").values()),
        list(Signature.objects.order_by("pk").values()),
        HistoricalAgreement.objects.count(),
    )
