"""Consequential actions on an agreement say what they will do before they
happen, and a change request's note may run as long as it needs."""

from __future__ import annotations

import pytest
from django.utils.formats import date_format

from agreements.models import Agreement
from agreements.services.agreements import agreement_sign
from agreements.tests.agreement_pages import url

pytestmark = pytest.mark.django_db


def test_the_sign_dialog_says_what_signing_makes_binding(
    client, sales_lead, proposed_ms
):
    client.force_login(sales_lead)
    page = client.get(proposed_ms.get_absolute_url()).content.decode()
    start = date_format(proposed_ms.effective_from, "j M Y")
    assert 'data-confirm="confirm-sign-' in page
    assert (
        f"Signing for Sales makes version {proposed_ms.version} binding between "
        f"Marketing and Sales from {start} once Marketing has signed too."
    ) in page


def test_the_last_signature_is_said_to_make_it_active_now(
    client, marketing_lead, sales_lead, proposed_ms, sales
):
    agreement_sign(
        agreement=proposed_ms, user=marketing_lead, team=proposed_ms.provider
    )
    client.force_login(sales_lead)
    page = client.get(proposed_ms.get_absolute_url()).content.decode()
    assert "the other team has signed, so it becomes active now." in page


def test_the_propose_form_asks_first(client, marketing_lead, draft_ms):
    client.force_login(marketing_lead)
    page = client.get(draft_ms.get_absolute_url()).content.decode()
    assert 'data-confirm="confirm-propose"' in page
    assert "Propose this agreement for signature?" in page


def test_the_plain_form_still_signs_without_the_dialog(client, sales_lead, proposed_ms):
    """Without JavaScript the sign form posts directly; the server needs no
    confirmation field."""
    client.force_login(sales_lead)
    response = client.post(
        url("sign", proposed_ms.pk), {"team": proposed_ms.consumer.pk}
    )
    assert response.status_code == 302
    assert proposed_ms.signatures.filter(team=proposed_ms.consumer).exists()


def test_a_long_change_request_note_is_kept_whole(client, sales_lead, proposed_ms):
    note = "The response time should count working hours only. " * 20
    assert len(note) > 1000
    client.force_login(sales_lead)
    response = client.post(url("request_changes", proposed_ms.pk), {"note": note})
    assert response.status_code == 302
    proposed_ms.refresh_from_db()
    assert proposed_ms.status == Agreement.Status.DRAFT
    assert proposed_ms.history.first().history_change_reason.endswith(note.strip())


def test_the_change_request_dialog_offers_a_roomy_textarea(
    client, sales_lead, proposed_ms
):
    client.force_login(sales_lead)
    page = client.get(proposed_ms.get_absolute_url()).content.decode()
    assert 'id="request-changes-note" name="note" rows="4" maxlength="2000"' in page
    # Without JavaScript the link opens the dialog in the page (:target).
    assert 'href="#request-changes"' in page
