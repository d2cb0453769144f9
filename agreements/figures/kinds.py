"""The registry of figure kinds: what a team logs, row by row, each month.

A ``FigureKind`` says everything the pages, the API, the services, the CSV
import and the scorecard engine need to know about one kind: its model, the
fields a person enters, the labels and totals of its lists, the import's
columns, and the metric sources it feeds with how its rows add up to each.
Adding a kind of figure is one entry here, one model (a ``TeamFigure``) and
one migration: its pages and urls, form (unless it names one), services, API
routes and serializers, import and its share of every scorecard come from
the entry. A kind may give its list a page of its own, figures/<slug>.html.

Measurements are not in this registry: they belong to an objective, not a
team, and have their own pages (``measurement_views``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Aggregate, Count, Sum
from django.urls import reverse

from ..models.agreements import Objective
from .models import ClosedCustomer, LeadLogEntry, TeamFigure

S = Objective.Source


@dataclass(frozen=True)
class Column:
    """A column of a CSV import."""

    name: str
    required: bool
    kind: str  # "date", "integer", "decimal" or "text"
    help: str
    example: str


@dataclass(frozen=True, eq=False)
class FigureKind:
    slug: str  # in URLs: /figures/<team>/<slug>/
    model: type[TeamFigure]
    singular: str
    plural: str
    # What a person enters, in form order; the model's date field is one.
    fields: tuple[str, ...]
    # Fields whose edits history notes as "changed" rather than old → new.
    long_fields: tuple[str, ...]
    # The metric sources the kind's rows feed, and how a month of a team's
    # rows adds up to each (the scorecard engine groups by month and team).
    metrics: Mapping[str, Aggregate]
    tab_label: str
    intro: str  # what the list page says the rows are
    # The dotted path of its ``FigureForm``; without one, a form is built
    # from the model's fields.
    form: str | None
    new_title: str  # the create page's heading and the list's button
    logged_reason: str  # the history reason of a new row
    verb: str  # "log its leads", for refusals
    team_help: str  # the API's word on the team field
    # Label and value of each field on a row's page.
    labels: tuple[tuple[str, str], ...]
    describe: Callable[[Any], str]
    totals: Mapping[str, Aggregate]
    import_slug: str
    import_label: str
    import_columns: tuple[Column, ...]
    import_defaults: Mapping[str, Any] = field(default_factory=dict)
    # Who acknowledges a row (the closed customer's handover), if anyone.
    acknowledged: bool = False
    # What the API's lists may also be ordered by (besides the date, the
    # team and when a row was logged).
    ordering_fields: tuple[str, ...] = ()

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(self.metrics)

    @property
    def counts_leads(self) -> bool:
        """Its totals give way to the leads a team's CRM sends
        (``records.models.Lead``) in the months there are any."""
        return S.LEADS_DELIVERED in self.metrics

    @property
    def date_field(self) -> str:
        return self.model.date_field

    @property
    def related(self) -> tuple[str, ...]:
        """What a row's page and the API select along with it."""
        return (
            "team",
            "created_by",
            *(("acknowledged_by",) if self.acknowledged else ()),
        )

    @property
    def list_templates(self) -> list[str]:
        """Its own list page if it has one, else the list of its fields."""
        return [f"figures/{self.slug}.html", "figures/rows.html"]

    def url(self, view: str, *args: Any) -> str:
        return reverse(f"figures:{self.slug}_{view}", args=args)

    def fields_of(self, row: Any) -> list[tuple[str, Any]]:
        """What a row's page shows, label and value."""
        return [(label, getattr(row, name)) for name, label in self.labels]

    def initial(self, row: Any) -> dict[str, Any]:
        return {name: getattr(row, name) for name in self.fields}


LEADS = FigureKind(
    slug="leads",
    model=LeadLogEntry,
    singular="lead log entry",
    plural="lead log",
    fields=("date", "leads_delivered", "qualified_leads", "source", "note"),
    long_fields=("note",),
    metrics={
        S.LEADS_DELIVERED: Sum("leads_delivered"),
        S.QUALIFIED_LEADS: Sum("qualified_leads"),
    },
    tab_label="Lead log",
    intro="Leads the team delivered, logged by day or by batch. They count "
    "towards the month they are dated in.",
    form="agreements.figures.forms.LeadLogEntryForm",
    new_title="Log leads",
    logged_reason="logged",
    verb="log its leads",
    team_help="The team that delivered the leads.",
    labels=(
        ("date", "Date"),
        ("leads_delivered", "Leads delivered"),
        ("qualified_leads", "Qualified leads"),
        ("source", "Source or campaign"),
        ("note", "Note"),
    ),
    describe=lambda row: (
        f"{row.leads_delivered} leads ({row.qualified_leads} qualified) on "
        f"{row.date:%-d %b %Y}"
    ),
    totals={
        "count": Count("pk"),
        "delivered": Sum("leads_delivered"),
        "qualified": Sum("qualified_leads"),
    },
    import_slug="lead_log",
    import_label="Lead log entries",
    import_columns=(
        Column(
            "date",
            True,
            "date",
            "The day the leads were delivered, YYYY-MM-DD, in an open month.",
            "2026-03-02",
        ),
        Column(
            "leads_delivered",
            True,
            "integer",
            "Leads delivered that day: a whole number, 0 or more.",
            "40",
        ),
        Column(
            "qualified_leads",
            False,
            "integer",
            "How many of them were qualified: a whole number, at most "
            "leads_delivered. Empty means 0.",
            "12",
        ),
        Column("source", False, "text", "The source or campaign.", "Spring webinar"),
        Column("note", False, "text", "Anything worth knowing.", ""),
    ),
    import_defaults={"qualified_leads": 0},
    ordering_fields=("leads_delivered", "qualified_leads"),
)

CUSTOMERS = FigureKind(
    slug="customers",
    model=ClosedCustomer,
    singular="closed customer",
    plural="closed customers",
    fields=("customer", "closed_on", "deal_value", "handover_notes"),
    long_fields=("handover_notes",),
    metrics={S.CUSTOMERS_CLOSED: Count("pk")},
    tab_label="Closed customers",
    intro="Customers the team closed, each handed over with notes; the team "
    "taking over acknowledges each handover.",
    form="agreements.figures.forms.ClosedCustomerForm",
    new_title="Record a closed customer",
    logged_reason="recorded",
    verb="record its closed customers",
    team_help="The team that closed the customer.",
    labels=(
        ("customer", "Customer"),
        ("closed_on", "Closed on"),
        ("deal_value", "Deal value"),
        ("handover_notes", "Handover notes"),
    ),
    describe=lambda row: f"{row.customer}, closed on {row.closed_on:%-d %b %Y}",
    totals={"count": Count("pk"), "value": Sum("deal_value")},
    import_slug="closed_customers",
    import_label="Closed customers",
    import_columns=(
        Column("customer", True, "text", "The customer's name.", "Acme GmbH"),
        Column(
            "closed_on",
            True,
            "date",
            "The day the deal closed, YYYY-MM-DD, in an open month.",
            "2026-03-02",
        ),
        Column(
            "deal_value",
            False,
            "decimal",
            "The deal's value: digits with a dot for decimals, 0 or more. "
            "Empty means 0.",
            "12000.50",
        ),
        Column(
            "handover_notes",
            False,
            "text",
            "What the team taking over the customer needs to know.",
            "Wants a kick-off call in the first week.",
        ),
    ),
    import_defaults={"deal_value": Decimal("0")},
    acknowledged=True,
    ordering_fields=("customer", "deal_value"),
)

KINDS: dict[str, FigureKind] = {kind.slug: kind for kind in (LEADS, CUSTOMERS)}
BY_MODEL: dict[type, FigureKind] = {kind.model: kind for kind in KINDS.values()}
BY_IMPORT: dict[str, FigureKind] = {kind.import_slug: kind for kind in KINDS.values()}
# The kind whose rows feed each metric source (measurements and friction
# reports feed the others).
BY_SOURCE: dict[str, FigureKind] = {
    source: kind for kind in KINDS.values() for source in kind.metrics
}


def kind_of(row: Any) -> FigureKind:
    """The kind of a row."""
    return BY_MODEL[type(row)]
