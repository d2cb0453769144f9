"""Drafting a new agreement in the editor, and the editor's htmx objective
rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agreements.models import Agreement, Objective
from agreements.tests.agreement_pages import editor_data, errors_of, objective_data, url

pytestmark = pytest.mark.django_db


def test_new_agreement_form_offers_the_teams_and_one_objective_row(
    client, marketing_lead, sales, service
):
    client.force_login(marketing_lead)
    response = client.get(url("create"))
    assert response.status_code == 200
    body = response.content.decode()
    for team in ("Marketing", "Sales", "Customer Service"):
        assert f">{team}</option>" in body
    assert body.count('data-testid="objective-row"') == 1
    # The team the person leads is the likely provider.
    assert (
        response.context["form"]["provider"].value()
        == marketing_lead.memberships.get().team_id
    )


def test_lead_drafts_an_agreement_with_objectives(
    client, marketing_lead, marketing, sales
):
    client.force_login(marketing_lead)
    response = client.post(
        url("create"),
        editor_data(
            provider=marketing,
            consumer=sales,
            objectives=[
                {
                    "name": "Qualified leads",
                    "metric_source": "qualified_leads",
                    "target": "200",
                },
                {
                    "name": "Lead response",
                    "comparator": "at_most",
                    "unit": "hours",
                    "target": "4",
                    "weight": "2",
                },
            ],
        ),
    )
    agreement = Agreement.objects.get()
    assert response.status_code == 302
    assert response.url == agreement.get_absolute_url()
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.created_by == marketing_lead
    assert [(o.name, o.target, o.position) for o in agreement.objectives.all()] == [
        ("Qualified leads", Decimal("200"), 1),
        ("Lead response", Decimal("4"), 2),
    ]
    history = agreement.history.get()
    assert history.history_user == marketing_lead
    assert history.history_change_reason == "drafted"


def test_blank_extra_objective_rows_are_ignored(
    client, marketing_lead, marketing, sales
):
    client.force_login(marketing_lead)
    data = editor_data(
        provider=marketing, consumer=sales, objectives=[{"name": "Leads"}, {}]
    )
    # The second row as the browser sends an untouched blank row.
    data |= {
        "objectives-1-name": "",
        "objectives-1-metric_source": "",
        "objectives-1-target": "",
    }
    response = client.post(url("create"), data)
    assert response.status_code == 302
    assert list(Objective.objects.values_list("name", flat=True)) == ["Leads"]


BAD_INPUT = {
    "same team twice": (
        {"consumer": "provider"},
        [],
        "The provider and the consumer must be two different teams.",
    ),
    "end before start": (
        {"effective_from": "2026-03-01", "effective_to": "2026-02-01"},
        [],
        "The end date must not be before the start date.",
    ),
    "target zero": ({}, [{"target": "0"}], "The target must be above zero."),
    "target negative": ({}, [{"target": "-5"}], "The target must be above zero."),
    "percentage over 100": (
        {},
        [{"unit": "percent", "target": "101"}],
        "A percentage target cannot be over 100.",
    ),
    "weight zero": ({}, [{"weight": "0"}], "The weight must be above zero."),
    "same name twice": (
        {},
        [{"name": "Leads"}, {"name": "leads "}],
        "Two objectives cannot have the same name",
    ),
    "counted source in hours": (
        {},
        [{"metric_source": "leads_delivered", "unit": "hours"}],
        "Leads, customers and friction reports are counted",
    ),
    "credit remedy without amount": (
        {"remedy": "credit"},
        [],
        "Give the credit owed for each miss.",
    ),
    "missing title": ({"title": ""}, [], "This field is required."),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_with_a_message_and_nothing_written(
    client, marketing_lead, marketing, sales, case
):
    fields, rows, message = BAD_INPUT[case]
    consumer = marketing if fields.get("consumer") == "provider" else sales
    fields = {k: v for k, v in fields.items() if k != "consumer"}
    client.force_login(marketing_lead)
    data = editor_data(
        provider=marketing, consumer=consumer, objectives=rows or [{}], **fields
    )
    response = client.post(url("create"), data)
    assert response.status_code == 200
    assert message in errors_of(response)
    assert "Nothing was saved yet" in errors_of(response)
    assert not Agreement.objects.exists()
    assert not Objective.objects.exists()


def test_drafting_for_teams_one_does_not_lead_is_refused(
    client, marketing_lead, sales, service
):
    client.force_login(marketing_lead)
    response = client.post(url("create"), editor_data(provider=sales, consumer=service))
    assert response.status_code == 200
    assert "You can only draft an agreement for a team you lead" in errors_of(response)
    assert not Agreement.objects.exists()


def test_a_person_who_leads_no_team_cannot_open_the_editor(client, executive, sales):
    client.force_login(executive)
    assert client.get(url("create")).status_code == 403
    response = client.post(url("create"), editor_data(provider=sales, consumer=sales))
    assert response.status_code == 403
    assert not Agreement.objects.exists()


# --- The htmx rows ------------------------------------------------------------


def test_add_objective_row_renders_the_next_row_and_total(client, marketing_lead):
    client.force_login(marketing_lead)
    response = client.get(url("objective_row_add"), {"objectives-TOTAL_FORMS": "2"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="objectives-2-name"' in body
    assert 'name="objectives-TOTAL_FORMS" value="3"' in body
    assert 'hx-swap-oob="true"' in body
    # A fresh row shows no errors before anyone typed anything.
    assert "is-invalid" not in body


@pytest.mark.parametrize("total", ["", "x", "-1", "30"])
def test_add_objective_row_refuses_a_bad_index(client, marketing_lead, total):
    client.force_login(marketing_lead)
    response = client.get(url("objective_row_add"), {"objectives-TOTAL_FORMS": total})
    assert response.status_code == 400


def test_remove_row_keeps_values_hidden_and_marks_it_deleted(client, marketing_lead):
    client.force_login(marketing_lead)
    data = {"index": "1"} | objective_data(1, id="42", name="Lead <b>time</b>")
    response = client.post(url("objective_row_remove"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="objectives-1-DELETE" value="on"' in body
    assert 'name="objectives-1-id" value="42"' in body
    assert "“Lead &lt;b&gt;time&lt;/b&gt;” will be removed when you save" in body
    assert url("objective_row_restore") in body


def test_restore_row_brings_the_values_back(client, marketing_lead):
    client.force_login(marketing_lead)
    data = {"index": "1"} | objective_data(1, id="42", name="Lead time", target="7")
    response = client.post(url("objective_row_restore"), data)
    body = response.content.decode()
    assert 'name="objectives-1-name" value="Lead time"' in body
    assert 'name="objectives-1-target" value="7"' in body
    assert "DELETE" not in body
    assert "is-invalid" not in body


def test_row_endpoints_refuse_people_who_lead_no_team(client, outsider):
    client.force_login(outsider)
    assert client.get(url("objective_row_add")).status_code == 403
    assert client.post(url("objective_row_remove"), {"index": "0"}).status_code == 403


def test_too_many_objectives_are_refused(client, marketing_lead, marketing, sales):
    client.force_login(marketing_lead)
    data = editor_data(
        provider=marketing,
        consumer=sales,
        objectives=[{"name": f"Objective {i}"} for i in range(31)],
    )
    response = client.post(url("create"), data)
    assert response.status_code == 200
    assert "An agreement can have at most 30 objectives." in errors_of(response)
    assert not Agreement.objects.exists()
