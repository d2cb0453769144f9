"""The columns of each kind of CSV import (from the registry of figure
kinds), documented for the page that offers the upload, and a template file
to start from."""

from __future__ import annotations

import csv
import io

from django.db import models

from ..kinds import BY_IMPORT, KINDS, Column

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

ImportKind = models.TextChoices(  # type: ignore[misc]
    "ImportKind",
    [
        (kind.import_slug.upper(), (kind.import_slug, kind.import_label))
        for kind in KINDS.values()
    ],
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    slug: kind.import_columns for slug, kind in BY_IMPORT.items()
}
DEFAULTS = {
    name: value
    for kind in KINDS.values()
    for name, value in kind.import_defaults.items()
}


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
