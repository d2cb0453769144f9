"""Each source's webhook secret: set and rotated by a head of its team (or
an administrator), never kept in the history."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from agreements.records.models import RecordSource
from agreements.records.sources import source_webhook_secret_rotate
from agreements.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_source_has_no_webhook_until_a_head_sets_its_secret(helpdesk, service_head):
    assert not helpdesk.webhook_enabled
    source = source_webhook_secret_rotate(source=helpdesk, user=service_head)
    first = source.webhook_secret
    assert len(first) >= 43 and source.webhook_enabled
    rotated = source_webhook_secret_rotate(source=helpdesk, user=service_head)
    assert rotated.webhook_secret not in ("", first)
    helpdesk.refresh_from_db()
    assert helpdesk.webhook_secret == rotated.webhook_secret
    reasons = [h.history_change_reason for h in helpdesk.history.all()]
    assert reasons[:2] == ["webhook secret rotated", "webhook secret set"]
    assert all(h.history_user == service_head for h in helpdesk.history.all()[:2])


def test_the_secret_is_not_kept_in_the_history(helpdesk, service_head):
    source = source_webhook_secret_rotate(source=helpdesk, user=service_head)
    history = helpdesk.history.model
    assert "webhook_secret" not in {f.name for f in history._meta.get_fields()}
    assert source.webhook_secret not in repr(list(helpdesk.history.values()))


@pytest.mark.parametrize("persona", ["service_lead", "sales_head", "executive"])
def test_only_a_head_of_the_team_rotates_the_secret(helpdesk, persona, request):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        source_webhook_secret_rotate(source=helpdesk, user=user)
    helpdesk.refresh_from_db()
    assert helpdesk.webhook_secret == ""


def test_an_administrator_rotates_secrets_from_the_admin(client, helpdesk, service):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    other = RecordSource.objects.create(
        team=service, name="Status page", kind=RecordSource.Kind.INCIDENTS
    )
    client.force_login(admin)
    url = reverse("admin:agreements_recordsource_changelist")

    response = client.post(
        url,
        {"action": "rotate_webhook_secret", "_selected_action": [helpdesk.pk]},
        follow=True,
    )

    assert response.status_code == 200
    helpdesk.refresh_from_db()
    other.refresh_from_db()
    assert helpdesk.webhook_secret and not other.webhook_secret
    shown = response.content.decode()
    assert "has a new webhook secret" in shown
    assert helpdesk.webhook_secret not in shown
    page = client.get(
        reverse("admin:agreements_recordsource_change", args=[helpdesk.pk])
    )
    assert helpdesk.webhook_secret in page.content.decode()
