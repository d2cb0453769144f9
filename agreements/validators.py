"""What text the portal keeps: one line of plain text in names, titles and
other single-line fields; line breaks and tabs, but no other control
characters, in notes and descriptions. A control character in a name breaks
CSV exports, email headers and the pages that show it."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# C0 and C1 control characters, DEL, and the Unicode line and paragraph
# separators.
_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, but tab, line feed and carriage return are a text's own.
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def single_line(value: str) -> None:
    if value and _SINGLE_LINE.search(value):
        raise ValidationError(
            "Write this on one line, in plain text: line breaks, tabs and "
            "control characters are not allowed.",
            code="control_characters",
        )


def multi_line(value: str) -> None:
    if value and _MULTI_LINE.search(value):
        raise ValidationError(
            "This text contains control characters; remove them (line breaks "
            "and tabs are fine).",
            code="control_characters",
        )


def positive(value) -> None:
    """An amount above zero. Not Django's ``MinValueValidator``: a decimal's
    lower bound above zero is a rule of the portal's (answered 422 by the
    API), not one its schema can state."""
    if value is not None and value <= 0:
        raise ValidationError("Give an amount above zero.", code="not_positive")
