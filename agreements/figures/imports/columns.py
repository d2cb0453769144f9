"""The columns of each kind of CSV import, documented for the page that
offers the upload, and a template file to start from."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.db import models

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024


class ImportKind(models.TextChoices):
    LEAD_LOG = "lead_log", "Lead log entries"
    CLOSED_CUSTOMERS = "closed_customers", "Closed customers"


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    kind: str  # "date", "integer", "decimal" or "text"
    help: str
    example: str


COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.LEAD_LOG: (
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
    ImportKind.CLOSED_CUSTOMERS: (
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
}
DEFAULTS = {"qualified_leads": 0, "deal_value": Decimal("0")}


def import_kind(kind: str) -> ImportKind:
    try:
        return ImportKind(kind)
    except ValueError:
        raise ValueError(f"unknown import kind: {kind!r}") from None


def template_csv(kind: str) -> str:
    """A header row and one example row: a file to fill in."""
    columns = COLUMNS[import_kind(kind)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    writer.writerow([c.example for c in columns])
    return out.getvalue()
