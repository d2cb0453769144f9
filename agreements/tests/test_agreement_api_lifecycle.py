"""An agreement's life through /api/v1/, by the same services as the pages:
drafting and editing, proposing, signing, requesting changes, revising and
retiring."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from agreements.models import Agreement, Objective, Signature
from agreements.services import agreement_update
from agreements.tests.agreement_api import (
    LIST,
    database_state,
    detail,
    error,
    new_agreement,
)
from agreements.tests.builders import active, draft, objective_row, proposed

pytestmark = pytest.mark.django_db


def post(client, url: str, body: Any = None, **kwargs: Any):
    return client.post(url, body, format="json", **kwargs)


def test_create_drafts_through_the_service(
    as_marketing, marketing_lead, marketing, sales
):
    response = post(as_marketing, LIST, new_agreement(marketing, sales))
    assert response.status_code == 201, response.content
    agreement = Agreement.objects.get(pk=response.json()["id"])
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.created_by == marketing_lead
    assert [o.name for o in agreement.objectives.all()] == ["Qualified leads"]
    record = agreement.history.earliest("history_date")
    assert record.history_user == marketing_lead
    assert record.history_change_reason == "drafted"
    assert response.json()["actions"]["propose"] is True


def test_create_for_teams_the_person_does_not_lead_is_403(
    api_client, sales_lead, marketing, service
):
    api_client.force_login(sales_lead)
    before = database_state()
    response = post(api_client, LIST, new_agreement(marketing, service))
    assert response.status_code == 403
    assert "provider or the consumer" in error(response)["message"]
    assert database_state() == before


@pytest.fixture
def a_draft(marketing_lead, marketing, sales):
    return draft(
        user=marketing_lead,
        provider=marketing,
        consumer=sales,
        objectives=[objective_row("Leads"), objective_row("Replies")],
    )


def test_edit_changes_terms_and_keeps_objectives_left_out(a_draft, as_marketing):
    response = as_marketing.patch(
        detail(a_draft), {"title": "Renamed", "edit_count": 0}, format="json"
    )
    assert response.status_code == 200, response.content
    a_draft.refresh_from_db()
    assert a_draft.title == "Renamed"
    assert a_draft.edit_count == 1
    assert [o.name for o in a_draft.objectives.all()] == ["Leads", "Replies"]
    assert response.json()["edit_count"] == 1


def test_edit_replaces_the_objectives_like_the_editor(a_draft, as_marketing):
    leads = a_draft.objectives.get(name="Leads")
    rows = [
        {
            "id": leads.pk,
            "name": "Leads",
            "metric_source": "leads_delivered",
            "target": "250",
        },
        {
            "name": "Uptime",
            "metric_source": "manual",
            "unit": "percent",
            "target": "99.5",
        },
    ]
    response = as_marketing.patch(
        detail(a_draft), {"objectives": rows, "edit_count": 0}, format="json"
    )
    assert response.status_code == 200, response.content
    objectives = list(a_draft.objectives.all())
    assert [o.name for o in objectives] == ["Leads", "Uptime"]
    assert objectives[0].pk == leads.pk
    assert objectives[0].target == Decimal("250")
    assert not Objective.objects.filter(name="Replies").exists()


def test_edit_based_on_an_outdated_read_is_409_and_saves_nothing(a_draft, as_marketing):
    agreement_update(
        agreement=a_draft,
        user=a_draft.created_by,
        expected_edit_count=0,
        objectives=[objective_row("Leads")],
        title="Saved by someone else",
    )
    before = database_state()
    response = as_marketing.patch(
        detail(a_draft), {"title": "Mine", "edit_count": 0}, format="json"
    )
    assert response.status_code == 409
    assert error(response)["code"] == "stale"
    assert database_state() == before
    a_draft.refresh_from_db()
    assert a_draft.title == "Saved by someone else"


def test_edit_of_a_proposal_is_409(marketing_lead, marketing, sales, as_marketing):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    response = as_marketing.patch(
        detail(agreement), {"title": "X", "edit_count": 0}, format="json"
    )
    assert response.status_code == 409
    assert error(response)["code"] == "invalid_state"
    assert "only a draft can be edited" in error(response)["message"]


# --- Lifecycle ------------------------------------------------------------


def test_propose_without_objectives_is_409_with_the_services_message(
    marketing_lead, marketing, sales, as_marketing
):
    agreement = draft(
        user=marketing_lead, provider=marketing, consumer=sales, objectives=[]
    )
    response = post(as_marketing, detail(agreement, "propose"))
    assert response.status_code == 409
    assert error(response)["message"] == "Add at least one objective before proposing."
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_propose_then_both_signatures_make_it_active(
    a_draft, as_marketing, api_client, sales_manager, marketing, sales
):
    assert post(as_marketing, detail(a_draft, "propose")).json()["status"] == "proposed"
    response = post(as_marketing, detail(a_draft, "sign"), {"team": marketing.pk})
    assert response.status_code == 200
    assert response.json()["status"] == "proposed"
    api_client.force_login(sales_manager)
    response = post(api_client, detail(a_draft, "sign"), {"team": sales.pk})
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert Signature.objects.filter(agreement=a_draft).count() == 2


def test_signing_for_a_team_one_does_not_lead_is_422(
    marketing_lead, marketing, sales, as_marketing
):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    response = post(as_marketing, detail(agreement, "sign"), {"team": sales.pk})
    assert response.status_code == 422
    assert "you do not lead Sales" in error(response)["message"]
    assert not Signature.objects.exists()


def test_signing_twice_is_409(marketing_lead, marketing, sales, as_marketing):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    post(as_marketing, detail(agreement, "sign"), {"team": marketing.pk})
    response = post(as_marketing, detail(agreement, "sign"), {"team": marketing.pk})
    assert response.status_code == 409
    assert "Marketing has already signed" in error(response)["message"]
    assert Signature.objects.count() == 1


def test_request_changes_sends_it_back_and_clears_signatures(
    marketing_lead, marketing, sales, as_marketing, api_client, sales_lead
):
    agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    post(as_marketing, detail(agreement, "sign"), {"team": marketing.pk})
    api_client.force_login(sales_lead)
    response = post(
        api_client, detail(agreement, "request-changes"), {"note": "Target too low"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    assert response.json()["signatures"] == []
    assert agreement.history.latest("history_date").history_change_reason == (
        "changes requested: Target too low"
    )


def test_revise_answers_the_new_version_and_a_second_revise_is_409(
    marketing_lead, sales_lead, marketing, sales, as_marketing
):
    agreement = active(
        user=marketing_lead, other_signer=sales_lead, provider=marketing, consumer=sales
    )
    response = post(as_marketing, detail(agreement, "revise"))
    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert response.json()["supersedes"] == agreement.pk
    assert response.json()["status"] == "draft"
    again = post(as_marketing, detail(agreement, "revise"))
    assert again.status_code == 409
    assert "already being prepared" in error(again)["message"]
    assert Agreement.objects.filter(lineage=agreement.lineage).count() == 2


def test_retire_ends_an_active_agreement(
    marketing_lead, sales_lead, marketing, sales, as_marketing
):
    agreement = active(
        user=marketing_lead, other_signer=sales_lead, provider=marketing, consumer=sales
    )
    response = post(as_marketing, detail(agreement, "retire"), {"note": "Replaced"})
    assert response.status_code == 200
    assert response.json()["status"] == "retired"
    again = post(as_marketing, detail(agreement, "retire"))
    assert again.status_code == 409
    assert error(again)["message"] == "Only an active agreement can be retired."
