"""An agreement's life through the buttons of its page: propose, sign,
request changes, revise and retire, and what each refuses."""

from __future__ import annotations

import pytest

from agreements.models import Agreement
from agreements.services.agreements import agreement_sign
from agreements.tests.agreement_pages import errors_of, snapshot, url
from agreements.tests.builders import draft
from agreements.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_whole_lifecycle_through_the_buttons(
    client, marketing_lead, sales_manager, draft_ms, marketing, sales
):
    client.force_login(marketing_lead)
    response = client.post(url("propose", draft_ms.pk), follow=True)
    assert "Proposed for signature" in errors_of(response)
    draft_ms.refresh_from_db()
    assert draft_ms.status == Agreement.Status.PROPOSED

    client.post(url("sign", draft_ms.pk), {"team": marketing.pk})
    client.force_login(sales_manager)
    response = client.post(url("sign", draft_ms.pk), {"team": sales.pk}, follow=True)
    assert "Both teams have signed: it is active." in errors_of(response)
    draft_ms.refresh_from_db()
    assert draft_ms.status == Agreement.Status.ACTIVE
    assert set(draft_ms.signatures.values_list("team", "signed_by", "role")) == {
        (marketing.pk, marketing_lead.pk, "lead"),
        (sales.pk, sales_manager.pk, "manager"),
    }

    response = client.post(url("revise", draft_ms.pk))
    revision = Agreement.objects.get(supersedes=draft_ms)
    assert response.url == url("edit", revision.pk)
    assert (revision.version, revision.status) == (2, Agreement.Status.DRAFT)

    response = client.post(
        url("retire", draft_ms.pk), {"note": "Replaced by a new deal"}
    )
    draft_ms.refresh_from_db()
    assert draft_ms.status == Agreement.Status.RETIRED
    assert draft_ms.history.first().history_change_reason == (
        "retired: Replaced by a new deal"
    )


def test_proposing_without_objectives_is_refused(
    client, marketing_lead, marketing, sales
):
    agreement = draft(
        user=marketing_lead, provider=marketing, consumer=sales, objectives=[]
    )
    client.force_login(marketing_lead)
    before = snapshot()
    response = client.post(url("propose", agreement.pk), follow=True)
    assert "Add at least one objective before proposing." in errors_of(response)
    assert snapshot() == before
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_proposing_twice_says_so(client, marketing_lead, proposed_ms):
    client.force_login(marketing_lead)
    before = snapshot()
    response = client.post(url("propose", proposed_ms.pk), follow=True)
    assert "Only a draft can be proposed; this one is proposed." in errors_of(response)
    assert snapshot() == before


def test_signing_twice_is_refused(
    client, sales_lead, sales_manager, proposed_ms, sales
):
    client.force_login(sales_lead)
    client.post(url("sign", proposed_ms.pk), {"team": sales.pk})
    before = snapshot()
    client.force_login(sales_manager)
    response = client.post(url("sign", proposed_ms.pk), {"team": sales.pk}, follow=True)
    assert "Sales has already signed" in errors_of(response)
    assert snapshot() == before
    assert proposed_ms.signatures.get().signed_by == sales_lead


def test_signing_for_a_team_one_does_not_lead_is_refused(
    client, sales_lead, proposed_ms, marketing
):
    client.force_login(sales_lead)
    before = snapshot()
    response = client.post(
        url("sign", proposed_ms.pk), {"team": marketing.pk}, follow=True
    )
    assert "you do not lead Marketing" in errors_of(response)
    assert snapshot() == before


@pytest.mark.parametrize("team", ["", "abc", "999999", "service"])
def test_signing_for_no_team_or_a_non_party_is_refused(
    client, sales_lead, proposed_ms, service, team
):
    client.force_login(sales_lead)
    before = snapshot()
    value = str(service.pk) if team == "service" else team
    response = client.post(url("sign", proposed_ms.pk), {"team": value}, follow=True)
    assert response.status_code == 200
    body = errors_of(response)
    assert "Choose the team you sign for." in body or "not a party" in body
    assert snapshot() == before


def test_sign_buttons_offer_only_teams_one_may_still_sign_for(
    client, sales_lead, marketing_lead, proposed_ms, marketing, sales
):
    both = UserFactory(username="both")
    from agreements.tests.factories import MembershipFactory

    MembershipFactory(user=both, team=marketing, role="head")
    MembershipFactory(user=both, team=sales, role="lead")
    client.force_login(both)
    body = client.get(url("detail", proposed_ms.pk)).content.decode()
    assert "Sign for Marketing" in body and "Sign for Sales" in body

    agreement_sign(agreement=proposed_ms, user=sales_lead, team=sales)
    body = client.get(url("detail", proposed_ms.pk)).content.decode()
    assert "Sign for Marketing" in body and "Sign for Sales" not in body

    client.force_login(sales_lead)
    body = client.get(url("detail", proposed_ms.pk)).content.decode()
    assert "Sign for" not in body


def test_request_changes_sends_back_to_draft_with_the_note(
    client, sales_lead, proposed_ms, marketing_lead, marketing
):
    agreement_sign(agreement=proposed_ms, user=marketing_lead, team=marketing)
    client.force_login(sales_lead)
    response = client.post(
        url("request_changes", proposed_ms.pk), {"note": "Target too high"}
    )
    assert response.status_code == 302
    proposed_ms.refresh_from_db()
    assert proposed_ms.status == Agreement.Status.DRAFT
    assert not proposed_ms.signatures.exists()
    assert proposed_ms.history.first().history_change_reason == (
        "changes requested: Target too high"
    )
    assert proposed_ms.history.first().history_user == sales_lead


def test_a_too_long_note_is_refused(client, sales_lead, proposed_ms):
    client.force_login(sales_lead)
    before = snapshot()
    response = client.post(
        url("request_changes", proposed_ms.pk), {"note": "x" * 2001}, follow=True
    )
    assert "Note: Ensure this value has at most 2000 characters" in errors_of(response)
    assert snapshot() == before


def test_revising_twice_points_to_the_pending_version(
    client, marketing_lead, active_ms
):
    client.force_login(marketing_lead)
    client.post(url("revise", active_ms.pk))
    before = snapshot()
    response = client.post(url("revise", active_ms.pk), follow=True)
    assert "Version 2 is already being prepared (draft)" in errors_of(response)
    assert snapshot() == before


def test_retiring_a_draft_is_refused(client, marketing_lead, draft_ms):
    client.force_login(marketing_lead)
    before = snapshot()
    response = client.post(url("retire", draft_ms.pk), follow=True)
    assert "Only an active agreement can be retired." in errors_of(response)
    assert snapshot() == before
