"""The moments the agreements tests happen at: mid-March 2026, with March
open, February locked and April still to come."""

from __future__ import annotations

import datetime as dt

from agreements import periods

# Mid-March 2026 in UTC (the default TIME_ZONE): March is open, February is
# locked (its grace period ended on 3 March), April is in the future.
NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
THIS_MONTH = dt.date(2026, 3, 1)
LOCKED_MONTH = dt.date(2026, 2, 1)
NEXT_MONTH = dt.date(2026, 4, 1)
IN_LOCKED_MONTH = dt.date(2026, 2, 20)


def local(*args: int) -> dt.datetime:
    """A moment on the organisation's clock (``TIME_ZONE``): month and grace
    boundaries are local midnights, whatever zone the suite runs in."""
    return dt.datetime(*args, tzinfo=periods.org_zone())
