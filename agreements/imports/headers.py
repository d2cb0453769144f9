"""Recognising a file's columns by their names.

Names are compared as ``header_key`` writes them: letter case, accents,
spaces, punctuation and quotes aside, so ``Record ID``, ``record_id`` and
``"Record-Id"`` are one name. An alias table maps each field onto the
names it is known by, best first; ``match_headers`` proposes a column for
each field, which a person confirms.

``HUBSPOT_LEADS`` and ``SALESFORCE_LEADS`` are the names a HubSpot contacts
export and a Salesforce leads report (“Details Only”) give the fields of a
lead (``LEAD_FIELDS``, named as ``records.Lead`` names them where it has
them), in English, as of their public documentation.

``HUBSPOT_LIFECYCLE_STAGES`` and ``HUBSPOT_LEAD_STATUSES`` are the values
HubSpot gives a contact's two properties, by their labels; ``value_label``
reads a value written either way as its label.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence

Aliases = Mapping[str, Sequence[str]]

LEAD_FIELDS = (
    "external_id",
    "started_at",  # handed over to sales, else created
    "owner",
    "email",
    "status",
    "stage",  # the lifecycle stage
    "qualified_at",  # became a marketing qualified lead
    "became_sql_at",
    "owner_assigned_at",
    "first_touch_at",  # the first engagement
    "updated_at",  # the last change or activity
    "company",
    "first_name",
    "last_name",
)

HUBSPOT_LEADS: dict[str, tuple[str, ...]] = {
    # "Contact ID" in exports before HubSpot renamed it "Record ID".
    "external_id": ("Record ID", "Contact ID"),
    # Becoming a lead is the hand-over; the creation stands in without it.
    "started_at": ("Became a Lead Date", "Create Date"),
    "owner": ("Contact owner", "HubSpot Owner"),
    "email": ("Email", "Email Address"),
    "status": ("Lead Status",),
    "stage": ("Lifecycle Stage",),
    "qualified_at": (
        "Became a Marketing Qualified Lead Date",
        'Date entered "Marketing Qualified Lead (Lifecycle Stage Pipeline)"',
    ),
    "became_sql_at": (
        "Became a Sales Qualified Lead Date",
        'Date entered "Sales Qualified Lead (Lifecycle Stage Pipeline)"',
    ),
    "owner_assigned_at": ("Owner Assigned Date",),
    "first_touch_at": ("First Engagement Date", "Date of first engagement"),
    "updated_at": ("Last Modified Date", "Last Activity Date", "Last Engagement Date"),
    "company": ("Associated Company", "Company Name"),
    "first_name": ("First Name",),
    "last_name": ("Last Name",),
}

SALESFORCE_LEADS: dict[str, tuple[str, ...]] = {
    "external_id": ("Lead ID",),
    "started_at": ("Create Date", "Created Date"),
    "owner": ("Lead Owner", "Owner"),
    "email": ("Email",),
    "status": ("Lead Status", "Status"),
    "updated_at": ("Last Modified Date", "Last Activity"),
    "company": ("Company / Account", "Company"),
    "first_name": ("First Name",),
    "last_name": ("Last Name",),
}

# The labels of HubSpot's default lifecycle stages and lead statuses, in its
# order. Exports write the label, the API and some exports the internal value
# (``salesqualifiedlead``, ``IN_PROGRESS``): that is the label's
# ``header_key``, so one lookup by key reads both.
HUBSPOT_LIFECYCLE_STAGES = (
    "Subscriber",
    "Lead",
    "Marketing Qualified Lead",
    "Sales Qualified Lead",
    "Opportunity",
    "Customer",
    "Evangelist",
    "Other",
)
HUBSPOT_LEAD_STATUSES = (
    "New",
    "Open",
    "In Progress",
    "Open Deal",
    "Unqualified",
    "Attempted to Contact",
    "Connected",
    "Bad Timing",
)

PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "hubspot": HUBSPOT_LEADS,
    "salesforce": SALESFORCE_LEADS,
}
# What a person is told a recognised file is.
PRESET_LABELS = {
    "hubspot": "HubSpot contacts export",
    "salesforce": "Salesforce leads report",
}


def header_key(name: str) -> str:
    """A column name as matching compares it: letters and digits only, lower
    case, without accents (``Création`` is ``creation``)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(
        char
        for char in decomposed
        if char.isalnum() and not unicodedata.combining(char)
    )


def value_labels(labels: Iterable[str]) -> dict[str, str]:
    """Labels by their key, for ``value_label``."""
    return {header_key(label): label for label in labels}


LIFECYCLE_STAGE_LABELS = value_labels(HUBSPOT_LIFECYCLE_STAGES)
LEAD_STATUS_LABELS = value_labels(HUBSPOT_LEAD_STATUSES)


def value_label(value: str, labels: Mapping[str, str]) -> str:
    """The label of a value written as its label or as the CRM's internal
    value (``salesqualifiedlead`` is Sales Qualified Lead); any other value
    as it is."""
    return labels.get(header_key(value), value) if value else value


def match_headers(
    header: Sequence[str], aliases: Aliases, *, taken: Iterable[str] = ()
) -> dict[str, str]:
    """For each field of ``aliases`` (in its order), the first column not
    yet chosen (nor in ``taken``) whose name is one of the field's aliases,
    tried best first; fields no column matches are left out. Columns are
    named as ``header`` writes them; of two columns with one key the first
    counts."""
    by_key: dict[str, str] = {}
    for name in header:
        if name:
            by_key.setdefault(header_key(name), name)
    used = set(taken)
    chosen: dict[str, str] = {}
    for field, names in aliases.items():
        for alias in names:
            column = by_key.get(header_key(alias))
            if column is not None and column not in used:
                chosen[field] = column
                used.add(column)
                break
    return chosen


def preset_for(header: Sequence[str]) -> str | None:
    """The preset (a key of ``PRESETS``) whose id column the header has and
    that recognises most of its columns; ``None`` when none has its id."""
    scores = {
        name: len(matched)
        for name, aliases in PRESETS.items()
        if "external_id" in (matched := match_headers(header, aliases))
    }
    return max(scores, key=lambda name: scores[name]) if scores else None
