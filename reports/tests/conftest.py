"""Fixtures for the scorecard tests: an organisation of any size, and a clock."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from agreements.models import Agreement
from reports.tests.builders import (
    AFTER_JANUARY_LOCKED,
    JANUARY,
    leads_agreement,
    log_leads,
)


@pytest.fixture
def clock():
    """Travel to a moment: ``with clock(datetime): ...``."""

    def travel(moment: dt.datetime):
        return time_machine.travel(moment, tick=False)

    return travel


# --- A scored agreement, for the pages ------------------------------------


@pytest.fixture
def frozen():
    """10 February 2026, 09:00 UTC: January is locked, February is live."""
    with time_machine.travel(AFTER_JANUARY_LOCKED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scored(marketing, sales, frozen) -> Agreement:
    """Marketing promises Sales 200 leads (weight 1) and 120 qualified leads
    (weight 2) a month. January: 220 leads (met, 110 %) and 90 qualified
    (missed, 75 %), score (100 + 2 × 75) / 3 = 83.3, finalised with a breach.
    February so far: 40 leads and 20 qualified by the 3rd."""
    from reports.services import scorecards_finalise

    agreement = leads_agreement(marketing, sales)
    log_leads(marketing, dt.date(2026, 1, 6), 220, 90)
    log_leads(marketing, dt.date(2026, 2, 3), 40, 20)
    scorecards_finalise(month=JANUARY)
    return agreement
