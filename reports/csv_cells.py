"""Cells of the CSV files the portal writes."""

from __future__ import annotations

# A spreadsheet runs a cell that starts with one of these as a formula; a
# title typed by a user must stay text (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """Text a person or a tool wrote, kept as text by a spreadsheet."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value
