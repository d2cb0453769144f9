"""The moments of the email tests: January 2026 and its close."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC
JANUARY = dt.date(2026, 1, 1)
# The close of January is due on 4 February at 08:00 (three grace days).
JANUARY_CLOSE = dt.datetime(2026, 2, 4, 8, 0, tzinfo=UTC)
AFTER_CLOSE = dt.datetime(2026, 2, 4, 9, 0, tzinfo=UTC)
