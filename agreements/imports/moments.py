"""Dates and times as exports write them, read in a format chosen for the
whole column.

A column is never guessed row by row: ``date_formats_for`` lists the formats
that read every value of a column, a person confirms one (the preview shows
a value read with it), and ``parse_moment`` reads each value with that one.
``01/02/2026`` is the 2nd of January in the US format and the 1st of
February day first; a column whose values all fit both offers both.

Times without an offset are read in the time zone chosen for the import.
Where the clocks change:

- in the hour the clocks go back, a time happens twice: the first (earlier)
  one is taken, as exports keep no trace of which was meant;
- in the hour the clocks skip, a time does not exist: it is moved forward
  by the length of the gap (02:30 becomes 03:30 in Berlin on the last Sunday
  of March), the time a clock that was not yet changed would have shown.

A date without a time is midnight local (moved forward likewise where a
zone skips midnight). Two-digit years are read as Excel reads them: 00 to 29
are 2000 to 2029, 30 to 99 are 1930 to 1999.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo

# A time after a date: H:MM, optional seconds, optional AM/PM.
_TIME = (
    r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"(?:\s?(?P<ampm>[AaPp]\.?[Mm]\.?))?)?"
)
_ISO_TIME = (
    r"[ T](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6}))?)?"
    r"\s?(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
_ISO_DAY = r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"


@dataclass(frozen=True)
class DateFormat:
    """One way of writing dates (and times): ``label`` and ``example`` are
    what a person chooses between."""

    key: str
    label: str
    example: str
    pattern: re.Pattern[str] = field(repr=False)
    two_digit_year: bool = False

    def __str__(self) -> str:
        return self.label


def _format(
    key: str, label: str, example: str, pattern: str, *, two_digit_year: bool = False
) -> DateFormat:
    return DateFormat(key, label, example, re.compile(rf"^{pattern}$"), two_digit_year)


ISO_DATE = _format("iso-date", "ISO date (YYYY-MM-DD)", "2026-03-02", _ISO_DAY)
ISO_DATETIME = _format(
    "iso-datetime",
    "ISO date and time (YYYY-MM-DD HH:MM, an offset if any)",
    "2026-03-02 14:30 or 2026-03-02T14:30:00+01:00",
    _ISO_DAY + _ISO_TIME,
)
US = _format(
    "us",
    "US, month first (m/d/yyyy)",
    "9/8/2026 11:22 AM",
    r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})" + _TIME,
)
US_SHORT_YEAR = _format(
    "us-short-year",
    "US, month first, two-digit year (m/d/yy)",
    "3/2/26 14:30",
    r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{2})" + _TIME,
    two_digit_year=True,
)
DAY_FIRST = _format(
    "day-first",
    "Day first (d/m/yyyy)",
    "8/9/2026 11:22",
    r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})" + _TIME,
)
GERMAN = _format(
    "german",
    "German (d.m.yyyy)",
    "01.10.2026 14:03",
    r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})" + _TIME,
)

# In the order ``date_formats_for`` offers them: US before day first where
# both read a column, as CRM exports default to US English.
DATE_FORMATS: tuple[DateFormat, ...] = (
    ISO_DATE,
    ISO_DATETIME,
    US,
    US_SHORT_YEAR,
    DAY_FIRST,
    GERMAN,
)
BY_KEY = {fmt.key: fmt for fmt in DATE_FORMATS}


def _offset(written: str) -> tzinfo:
    if written in "Zz":
        return UTC
    sign = -1 if written[0] == "-" else 1
    digits = written[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"{written} is no offset from UTC")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _year(written: str, fmt: DateFormat) -> int:
    year = int(written)
    if fmt.two_digit_year:
        year += 2000 if year < 30 else 1900
    return year


def _hour(parts: dict[str, str | None]) -> int:
    hour = int(parts.get("hour") or 0)
    ampm = parts.get("ampm")
    if not ampm:
        return hour
    if not 1 <= hour <= 12:
        raise ValueError("with AM or PM the hour is 1 to 12")
    return hour % 12 + (12 if ampm[0] in "Pp" else 0)


def _written(value: str, fmt: DateFormat) -> tuple[datetime, tzinfo | None]:
    """The wall time written and its offset, or raise ValueError."""
    found = fmt.pattern.match(value)
    if found is None:
        raise ValueError(
            f"“{value}” is not written as {fmt.label}: write it like {fmt.example}."
        )
    parts = found.groupdict()
    try:
        moment = datetime(
            _year(parts["year"], fmt),
            int(parts["month"]),
            int(parts["day"]),
            _hour(parts),
            int(parts.get("minute") or 0),
            int(parts.get("second") or 0),
            int((parts.get("fraction") or "0").ljust(6, "0")),
        )
        offset = _offset(parts["offset"]) if parts.get("offset") else None
    except ValueError as exc:
        raise ValueError(f"“{value}” cannot be read as {fmt.label}: {exc}.") from None
    return moment, offset


def parse_moment(value: str, fmt: DateFormat, zone: tzinfo) -> datetime:
    """``value`` read in ``fmt``: an aware datetime (see the module's
    docstring for dates alone and the hours the clocks change). Raises
    ValueError naming the value and the format expected."""
    value = value.strip()
    moment, offset = _written(value, fmt)
    if offset is not None:
        return moment.replace(tzinfo=offset)
    try:
        # fold=0: the first of a doubled hour, a skipped one read with the
        # offset before the change; the round trip writes it as clocks show.
        return moment.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    except OverflowError:
        raise ValueError(f"“{value}” is too far in the past or future.") from None


def reads(value: str, fmt: DateFormat) -> bool:
    """Whether ``fmt`` reads ``value`` as a date in the calendar."""
    try:
        _written(value.strip(), fmt)
    except ValueError:
        return False
    return True


def date_formats_for(values: Iterable[str]) -> list[DateFormat]:
    """The formats that read every non-empty value, in ``DATE_FORMATS``'
    order; none for a column without values."""
    written = [value.strip() for value in values if value.strip()]
    if not written:
        return []
    return [fmt for fmt in DATE_FORMATS if all(reads(v, fmt) for v in written)]
