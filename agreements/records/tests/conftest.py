"""Sources of records for the service team: a helpdesk's requests and a
status page's incidents."""

from __future__ import annotations

import pytest

from agreements.records.models import RecordSource


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
