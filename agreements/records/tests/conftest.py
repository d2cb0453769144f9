"""Sources of records for the service team: a helpdesk's requests and a
status page's incidents."""

from __future__ import annotations

import pytest

from agreements.records.models import RecordSource


@pytest.fixture
def utc(settings):
    """The organisation keeps UTC here, so a time without an offset reads as
    written; the tests that import in another zone choose it on the form."""
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def helpdesk(service) -> RecordSource:
    return RecordSource.objects.create(
        team=service, name="Helpdesk", kind=RecordSource.Kind.REQUESTS
    )


@pytest.fixture
def status_page(service) -> RecordSource:
    return RecordSource.objects.create(
        team=service, name="Status page", kind=RecordSource.Kind.INCIDENTS
    )


@pytest.fixture
def crm(marketing) -> RecordSource:
    """The marketing team's CRM, whose exports bring its leads."""
    return RecordSource.objects.create(
        team=marketing, name="CRM", kind=RecordSource.Kind.LEADS
    )
