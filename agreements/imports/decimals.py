"""Numbers as exports write them, read in a style chosen for the whole
column: ``12000.50``, ``12,000.50`` or German ``12.000,50``.

As with dates, a column is never guessed row by row: ``12.500`` is twelve
and a half in one style and twelve thousand five hundred in another, so
``number_styles_for`` lists the styles that read every value and a person
confirms one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class NumberStyle:
    key: str
    label: str
    example: str
    pattern: re.Pattern[str] = field(repr=False)
    group: str  # the thousands separator, "" for none
    decimal: str

    def __str__(self) -> str:
        return self.label


def _style(key: str, label: str, example: str, group: str, decimal: str) -> NumberStyle:
    digits = rf"\d{{1,3}}(?:{re.escape(group)}\d{{3}})+|\d+" if group else r"\d+"
    pattern = rf"^[+-]?(?:{digits})(?:{re.escape(decimal)}\d+)?$"
    return NumberStyle(key, label, example, re.compile(pattern), group, decimal)


PLAIN = _style("plain", "Plain (12000.50)", "12000.50", "", ".")
COMMA_THOUSANDS = _style(
    "comma-thousands",
    "Comma thousands, dot decimals (12,000.50)",
    "12,000.50",
    ",",
    ".",
)
DOT_THOUSANDS = _style(
    "dot-thousands",
    "Dot thousands, comma decimals (12.000,50)",
    "12.000,50",
    ".",
    ",",
)
NUMBER_STYLES: tuple[NumberStyle, ...] = (PLAIN, COMMA_THOUSANDS, DOT_THOUSANDS)
BY_KEY = {style.key: style for style in NUMBER_STYLES}


def parse_number(value: str, style: NumberStyle) -> Decimal:
    """``value`` read in ``style``; raises ValueError naming the value and
    the style expected. Thousands separators are optional, but where they
    are written they must group by three."""
    written = value.strip()
    if not style.pattern.match(written):
        raise ValueError(
            f"“{value}” is not a number written as {style.label}: write it like "
            f"{style.example}."
        )
    if style.group:
        written = written.replace(style.group, "")
    return Decimal(written.replace(style.decimal, "."))


def number_styles_for(values: Iterable[str]) -> list[NumberStyle]:
    """The styles that read every non-empty value, in ``NUMBER_STYLES``'
    order; none for a column without values."""
    written = [value.strip() for value in values if value.strip()]
    if not written:
        return []
    return [
        style
        for style in NUMBER_STYLES
        if all(style.pattern.match(value) for value in written)
    ]
