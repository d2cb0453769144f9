"""Editing a draft in the editor: terms and objectives, two people saving
at once, and what the editor refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agreements.tests.agreement_pages import (
    edit_data,
    editor_data,
    errors_of,
    snapshot,
    url,
)
from agreements.tests.builders import active, draft, objective_row, proposed

pytestmark = pytest.mark.django_db


def test_editor_shows_the_draft_with_its_edit_count(client, sales_lead, draft_ms):
    client.force_login(sales_lead)
    response = client.get(url("edit", draft_ms.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="edit_count" value="0"' in body
    assert 'value="Qualified leads"' in body
    # Stored decimals read as people write them.
    assert 'name="objectives-0-target" value="200"' in body


def test_editing_a_draft_updates_terms_and_objectives(client, sales_lead, draft_ms):
    kept = draft_ms.objectives.get()
    client.force_login(sales_lead)
    data = edit_data(
        draft_ms,
        title="Leads, qualified",
        objectives=[
            {
                "id": kept.pk,
                "name": kept.name,
                "metric_source": "qualified_leads",
                "target": "250",
            },
            {
                "name": "Follow-up time",
                "comparator": "at_most",
                "unit": "hours",
                "target": "4",
            },
        ],
    )
    response = client.post(url("edit", draft_ms.pk), data)
    assert response.status_code == 302
    draft_ms.refresh_from_db()
    assert draft_ms.title == "Leads, qualified"
    assert draft_ms.edit_count == 1
    kept.refresh_from_db()
    assert kept.target == Decimal("250")
    assert draft_ms.objectives.count() == 2
    latest = draft_ms.history.first()
    assert latest.history_user == sales_lead
    assert latest.history_change_reason == (
        "edited: changed “Qualified leads”; added “Follow-up time”"
    )


def test_an_objective_marked_for_removal_is_deleted_on_save(
    client, marketing_lead, marketing, sales
):
    agreement = draft(
        user=marketing_lead,
        provider=marketing,
        consumer=sales,
        objectives=[objective_row("Keep"), objective_row("Drop")],
    )
    client.force_login(marketing_lead)
    data = edit_data(agreement)
    data["objectives-1-DELETE"] = "on"
    response = client.post(url("edit", agreement.pk), data)
    assert response.status_code == 302
    assert list(agreement.objectives.values_list("name", flat=True)) == ["Keep"]
    assert "removed “Drop”" in agreement.history.first().history_change_reason


def test_renaming_an_objective_and_reusing_its_name_in_one_save(
    client, marketing_lead, draft_ms
):
    kept = draft_ms.objectives.get()
    client.force_login(marketing_lead)
    data = edit_data(
        draft_ms,
        objectives=[
            {"name": kept.name, "target": "5"},
            {"id": kept.pk, "name": "Older leads", "target": "7"},
        ],
    )
    response = client.post(url("edit", draft_ms.pk), data)
    assert response.status_code == 302
    assert sorted(draft_ms.objectives.values_list("name", flat=True)) == [
        "Older leads",
        "Qualified leads",
    ]


def test_swapping_two_objective_names_is_refused_not_a_server_error(
    client, marketing_lead, marketing, sales
):
    agreement = draft(
        user=marketing_lead,
        provider=marketing,
        consumer=sales,
        objectives=[objective_row("A"), objective_row("B")],
    )
    a, b = agreement.objectives.all()
    client.force_login(marketing_lead)
    before = snapshot()
    data = edit_data(
        agreement,
        objectives=[{"id": a.pk, "name": "B"}, {"id": b.pk, "name": "A"}],
    )
    response = client.post(url("edit", agreement.pk), data)
    assert response.status_code == 200
    assert "Two objectives would swap names" in errors_of(response)
    assert snapshot() == before


def test_two_people_editing_one_draft_the_second_save_is_refused(
    client, marketing_lead, sales_lead, draft_ms
):
    from django.test import Client

    first, second = client, Client()
    first.force_login(marketing_lead)
    second.force_login(sales_lead)
    # Both open the editor before either saves.
    first_data = edit_data(draft_ms, title="Marketing's title")
    second_data = edit_data(draft_ms, title="Sales' title")

    assert first.post(url("edit", draft_ms.pk), first_data).status_code == 302
    after_first = snapshot()
    response = second.post(url("edit", draft_ms.pk), second_data)

    assert response.status_code == 200
    assert "Someone else saved this draft after you opened it" in errors_of(response)
    assert "Nothing was saved yet" not in errors_of(response)
    assert snapshot() == after_first
    draft_ms.refresh_from_db()
    assert draft_ms.title == "Marketing's title"
    # The refused page keeps the person's text, so nothing they typed is lost.
    assert "Sales&#x27; title" in errors_of(response)


def test_a_save_without_the_edit_count_is_refused(client, marketing_lead, draft_ms):
    client.force_login(marketing_lead)
    data = edit_data(draft_ms, title="Changed")
    del data["edit_count"]
    before = snapshot()
    response = client.post(url("edit", draft_ms.pk), data)
    assert response.status_code == 200
    assert "missing its version marker" in errors_of(response)
    assert snapshot() == before


def test_an_objective_of_another_agreement_cannot_be_smuggled_in(
    client, marketing_lead, marketing, sales, draft_ms
):
    other = draft(user=marketing_lead, provider=marketing, consumer=sales, title="B")
    foreign = other.objectives.get()
    client.force_login(marketing_lead)
    before = snapshot()
    data = edit_data(draft_ms, objectives=[{"id": foreign.pk, "name": "Stolen"}])
    response = client.post(url("edit", draft_ms.pk), data)
    assert response.status_code == 200
    assert "does not belong to this agreement" in errors_of(response)
    assert snapshot() == before


def test_bad_objective_on_edit_shows_on_its_field(client, marketing_lead, draft_ms):
    client.force_login(marketing_lead)
    before = snapshot()
    data = edit_data(draft_ms)
    data["objectives-0-target"] = "-1"
    response = client.post(url("edit", draft_ms.pk), data)
    assert response.status_code == 200
    form = response.context["formset"].forms[0]
    assert form.errors["target"] == ["The target must be above zero."]
    assert snapshot() == before


@pytest.mark.parametrize("state", ["proposed", "active"])
def test_editing_a_non_draft_is_refused_with_a_message(
    client, marketing_lead, sales_lead, marketing, sales, state
):
    if state == "proposed":
        agreement = proposed(user=marketing_lead, provider=marketing, consumer=sales)
    else:
        agreement = active(
            user=marketing_lead,
            other_signer=sales_lead,
            provider=marketing,
            consumer=sales,
        )
    client.force_login(marketing_lead)
    response = client.get(url("edit", agreement.pk), follow=True)
    assert response.redirect_chain == [(agreement.get_absolute_url(), 302)]
    assert f"This agreement is {state}: only a draft can be edited." in errors_of(
        response
    )
    before = snapshot()
    data = editor_data(
        provider=marketing,
        consumer=sales,
        title="Sneaky",
        edit_count=agreement.edit_count,
    )
    response = client.post(url("edit", agreement.pk), data)
    assert response.status_code == 302
    assert snapshot() == before


def test_moving_a_draft_to_teams_one_does_not_lead_is_refused(
    client, marketing_lead, draft_ms, service, sales
):
    client.force_login(marketing_lead)
    before = snapshot()
    data = edit_data(draft_ms, provider=sales, consumer=service)
    response = client.post(url("edit", draft_ms.pk), data)
    assert response.status_code == 200
    assert "You can only draft an agreement for a team you lead" in errors_of(response)
    assert snapshot() == before
