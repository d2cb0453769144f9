"""The agreement pages: every rule through the pages a person uses."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from agreements.models import Agreement, Objective, Signature, Team
from agreements.services.agreements import agreement_revise, agreement_sign
from agreements.tests.builders import (
    active,
    default_start,
    draft,
    objective_row,
    proposed,
)
from agreements.tests.factories import TeamFactory, UserFactory
from reports.chain import NEUTRAL, ChainLink, chain_svg, ordered_teams

pytestmark = pytest.mark.django_db

HistoricalAgreement = Agreement.history.model


# --- Helpers ----------------------------------------------------------------


def objective_data(index: int, **values: Any) -> dict[str, str]:
    row = {
        "id": "",
        "name": f"Objective {index}",
        "metric_source": "manual",
        "comparator": "at_least",
        "target": "10",
        "unit": "count",
        "weight": "1",
        "warning_threshold": "",
        **values,
    }
    return {f"objectives-{index}-{k}": str(v) for k, v in row.items()}


def editor_data(
    *,
    provider: Team,
    consumer: Team,
    objectives: list[dict[str, Any]] = (),
    initial_forms: int = 0,
    **fields: Any,
) -> dict[str, str]:
    """The POST body of the editor: the agreement's fields plus the formset."""
    data = {
        "title": "Qualified leads for Sales",
        "provider": str(provider.pk),
        "consumer": str(consumer.pk),
        "summary": "",
        "effective_from": default_start().isoformat(),
        "effective_to": "",
        "review_on": "",
        "compensation_clause": "Make up the shortfall next month.",
        "remedy": "none",
        "remedy_credit": "",
        "objectives-TOTAL_FORMS": str(len(objectives)),
        "objectives-INITIAL_FORMS": str(initial_forms),
        "objectives-MIN_NUM_FORMS": "0",
        "objectives-MAX_NUM_FORMS": "30",
    }
    for index, values in enumerate(objectives):
        data |= objective_data(index, **values)
    data |= {k: str(v) for k, v in fields.items()}
    return data


def edit_data(agreement: Agreement, **fields: Any) -> dict[str, str]:
    """The editor's POST body as the page shows it for ``agreement``, with
    ``fields`` changed. ``objectives`` replaces the rows (pass ``id`` to keep
    one)."""
    agreement.refresh_from_db()
    stored = [
        {
            "id": o.pk,
            "name": o.name,
            "metric_source": o.metric_source,
            "comparator": o.comparator,
            "target": o.target,
            "unit": o.unit,
            "weight": o.weight,
            "warning_threshold": o.warning_threshold or "",
        }
        for o in agreement.objectives.all()
    ]
    objectives = fields.pop("objectives", stored)
    data = editor_data(
        provider=fields.pop("provider", agreement.provider),
        consumer=fields.pop("consumer", agreement.consumer),
        objectives=objectives,
        initial_forms=len(stored),
        title=agreement.title,
        compensation_clause=agreement.compensation_clause,
        edit_count=agreement.edit_count,
    )
    data |= {k: str(v) for k, v in fields.items()}
    return data


def errors_of(response) -> str:
    return response.content.decode()


def url(name: str, *args: Any) -> str:
    # The chain is coloured by scorecards: a page of the reports app.
    namespace = "reports" if name == "chain" else "agreements"
    return reverse(f"{namespace}:{name}", args=args)


@pytest.fixture
def draft_ms(marketing_lead, marketing, sales):
    """A draft from Marketing to Sales with one objective."""
    return draft(user=marketing_lead, provider=marketing, consumer=sales)


@pytest.fixture
def proposed_ms(marketing_lead, marketing, sales):
    return proposed(user=marketing_lead, provider=marketing, consumer=sales)


@pytest.fixture
def active_ms(marketing_lead, sales_lead, marketing, sales):
    return active(
        user=marketing_lead, other_signer=sales_lead, provider=marketing, consumer=sales
    )


def snapshot() -> tuple:
    """Everything the services write, to prove a refusal wrote nothing."""
    return (
        list(Agreement.objects.order_by("pk").values()),
        list(Objective.objects.order_by("pk").values()),
        list(Signature.objects.order_by("pk").values()),
        HistoricalAgreement.objects.count(),
    )


# --- Login and navigation ---------------------------------------------------


@pytest.mark.parametrize(
    "name", ["list", "create", "chain", "objective_row_add"], ids=str
)
def test_pages_need_login(client, name):
    response = client.get(url(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_detail_needs_login(client, draft_ms):
    response = client.get(url("detail", draft_ms.pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_navigation_offers_agreements_and_chain(client, outsider):
    client.force_login(outsider)
    body = client.get(reverse("home")).content.decode()
    assert f'href="{url("list")}"' in body
    assert f'href="{url("chain")}"' in body


def test_navigation_marks_the_agreements_item_on_a_detail_page(client, draft_ms):
    client.force_login(draft_ms.created_by)
    body = client.get(url("detail", draft_ms.pk)).content.decode()
    assert re.search(
        r'class="nav-link active"\s+aria-current="page"\s+'
        rf'href="{url("list")}">Agreements<',
        body,
    )
    assert body.count('class="nav-link active"') == 1


def test_home_lists_proposals_awaiting_my_signature(client, proposed_ms, sales_lead):
    client.force_login(sales_lead)
    body = client.get(reverse("home")).content.decode()
    assert "Awaiting your signature" in body
    assert proposed_ms.get_absolute_url() in body


def test_home_does_not_ask_a_team_that_signed_already(client, proposed_ms, sales_lead):
    agreement_sign(agreement=proposed_ms, user=sales_lead, team=proposed_ms.consumer)
    client.force_login(sales_lead)
    assert "Awaiting your signature" not in client.get(reverse("home")).content.decode()


# --- Permission matrix --------------------------------------------------------
# An agreement between Marketing (provider) and Sales (consumer): members of
# either team and executives see it; leads, managers and heads of either team
# act on it; nobody else. What a person may not see is a 404.

PERSONAS = [
    "marketing_lead",
    "sales_lead",
    "sales_manager",
    "service_head",
    "executive",
    "outsider",
]
PARTY_LEADS = {"marketing_lead", "sales_lead", "sales_manager"}
CAN_SEE = PARTY_LEADS | {"executive"}


def page_expectation(persona: str, page: str) -> int:
    if page in ("list", "chain"):
        return 200
    if page == "create":
        return 200 if persona in PARTY_LEADS | {"service_head"} else 403
    if persona not in CAN_SEE:
        return 404
    if page == "edit":
        return 200 if persona in PARTY_LEADS else 403
    return 200


@pytest.fixture
def lineage(active_ms, marketing_lead):
    """Version 1 active, version 2 a draft revision of it."""
    revision = agreement_revise(agreement=active_ms, user=marketing_lead)
    return active_ms, revision


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", ["list", "detail", "edit", "diff", "chain", "create"])
def test_page_matrix(client, request, lineage, persona, page):
    current, revision = lineage
    user = request.getfixturevalue(persona)
    client.force_login(user)
    address = {
        "list": url("list"),
        "detail": url("detail", current.pk),
        "edit": url("edit", revision.pk),
        "diff": url("diff", current.pk, revision.pk),
        "chain": url("chain"),
        "create": url("create"),
    }[page]
    response = client.get(address)
    assert response.status_code == page_expectation(persona, page)
    if page in ("list", "chain"):
        # The agreement shows only to those who may see it.
        shown = current.get_absolute_url() in response.content.decode()
        assert shown is (persona in CAN_SEE)


ACTIONS = {
    # action: (state the agreement must be in, how its state changes)
    "propose": "draft",
    "sign": "proposed",
    "request_changes": "proposed",
    "revise": "active",
    "retire": "active",
}
TEAM_OF = {
    "marketing_lead": "marketing",
    "sales_lead": "sales",
    "sales_manager": "sales",
}


def action_expectation(persona: str) -> int:
    if persona in PARTY_LEADS:
        return 302
    return 403 if persona in CAN_SEE else 404


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_matrix(
    client, request, persona, action, marketing_lead, sales_lead, marketing, sales
):
    state = ACTIONS[action]
    build = {"draft": draft, "proposed": proposed}.get(state)
    if build:
        agreement = build(user=marketing_lead, provider=marketing, consumer=sales)
    else:
        agreement = active(
            user=marketing_lead,
            other_signer=sales_lead,
            provider=marketing,
            consumer=sales,
        )
    user = request.getfixturevalue(persona)
    team = {"marketing": marketing, "sales": sales}[TEAM_OF.get(persona, "marketing")]
    before = snapshot()
    client.force_login(user)

    response = client.post(url(action, agreement.pk), {"team": team.pk, "note": ""})

    assert response.status_code == action_expectation(persona)
    agreement.refresh_from_db()
    if response.status_code != 302:
        assert snapshot() == before
        return
    assert snapshot() != before
    if action == "propose":
        assert agreement.status == Agreement.Status.PROPOSED
    elif action == "sign":
        assert list(agreement.signatures.values_list("team", "signed_by")) == [
            (team.pk, user.pk)
        ]
    elif action == "request_changes":
        assert agreement.status == Agreement.Status.DRAFT
    elif action == "revise":
        revision = Agreement.objects.get(supersedes=agreement)
        assert response.url == url("edit", revision.pk)
        assert agreement.status == Agreement.Status.ACTIVE
    elif action == "retire":
        assert agreement.status == Agreement.Status.RETIRED


@pytest.mark.parametrize("action", list(ACTIONS))
def test_actions_are_post_only(client, marketing_lead, draft_ms, action):
    client.force_login(marketing_lead)
    before = snapshot()
    assert client.get(url(action, draft_ms.pk)).status_code == 405
    assert snapshot() == before


def test_an_unknown_agreement_is_a_404(client, marketing_lead):
    client.force_login(marketing_lead)
    assert client.get(url("detail", 999_999)).status_code == 404
    assert client.post(url("propose", 999_999)).status_code == 404


def test_executive_sees_no_action_buttons(client, executive, proposed_ms):
    client.force_login(executive)
    body = client.get(url("detail", proposed_ms.pk)).content.decode()
    assert "Sign for" not in body
    assert url("request_changes", proposed_ms.pk) not in body


def test_a_member_who_does_not_lead_sees_but_cannot_act(client, sales, draft_ms):
    from agreements.tests.factories import MembershipFactory

    member = MembershipFactory(team=sales, role="member").user
    client.force_login(member)
    response = client.get(url("detail", draft_ms.pk))
    assert response.status_code == 200
    assert "Propose for signature" not in response.content.decode()
    assert client.get(url("edit", draft_ms.pk)).status_code == 403
    before = snapshot()
    assert client.post(url("propose", draft_ms.pk)).status_code == 403
    assert snapshot() == before


# --- Creating a draft ---------------------------------------------------------


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


# --- Editing a draft ----------------------------------------------------------


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


# --- Actions ------------------------------------------------------------------


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
        url("request_changes", proposed_ms.pk), {"note": "x" * 81}, follow=True
    )
    assert "Note: Ensure this value has at most 80 characters" in errors_of(response)
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


# --- List ---------------------------------------------------------------------


@pytest.fixture
def three_agreements(
    marketing_lead, sales_lead, service_head, marketing, sales, service
):
    return {
        "leads": active(
            user=marketing_lead,
            other_signer=sales_lead,
            provider=marketing,
            consumer=sales,
            title="Qualified leads",
        ),
        "handover": draft(
            user=sales_lead, provider=sales, consumer=service, title="Customer handover"
        ),
        "onboarding": proposed(
            user=service_head, provider=service, consumer=sales, title="Onboarding"
        ),
    }


def listed(response) -> set[str]:
    return {a.title for a in response.context["page"].object_list}


def test_list_shows_what_the_person_may_see(client, three_agreements, marketing_lead):
    client.force_login(marketing_lead)
    assert listed(client.get(url("list"))) == {"Qualified leads"}


def test_list_filters_by_team_status_and_title(
    client, three_agreements, executive, service
):
    client.force_login(executive)
    assert listed(client.get(url("list"))) == {
        "Qualified leads",
        "Customer handover",
        "Onboarding",
    }
    assert listed(client.get(url("list"), {"team": service.pk})) == {
        "Customer handover",
        "Onboarding",
    }
    assert listed(client.get(url("list"), {"status": "draft"})) == {"Customer handover"}
    assert listed(client.get(url("list"), {"q": "LEADS"})) == {"Qualified leads"}
    assert listed(
        client.get(url("list"), {"team": service.pk, "status": "proposed"})
    ) == {"Onboarding"}


def test_list_shows_an_empty_state(client, outsider, three_agreements):
    client.force_login(outsider)
    body = client.get(url("list")).content.decode()
    assert "No agreements yet." in body


def test_list_says_when_filters_match_nothing(client, executive, three_agreements):
    client.force_login(executive)
    body = client.get(url("list"), {"q": "nothing like this"}).content.decode()
    assert "No agreement matches these filters." in body


def test_list_flags_proposals_awaiting_my_signature(
    client, three_agreements, sales_lead
):
    client.force_login(sales_lead)
    body = client.get(url("list")).content.decode()
    assert body.count("Awaiting your signature") == 1


def test_list_ignores_a_bad_filter_value(client, executive, three_agreements):
    client.force_login(executive)
    response = client.get(url("list"), {"team": "x", "status": "bogus"})
    assert response.status_code == 200


def test_user_text_is_escaped(client, marketing_lead, marketing, sales):
    agreement = draft(
        user=marketing_lead,
        provider=marketing,
        consumer=sales,
        title="<script>alert(1)</script>",
        summary="<img src=x onerror=alert(2)>",
    )
    client.force_login(marketing_lead)
    for page in (url("list"), url("detail", agreement.pk), url("edit", agreement.pk)):
        body = client.get(page).content.decode()
        assert "<script>alert(1)" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<img src=x" not in body


# --- Query counts ---------------------------------------------------------------


def make_agreements(count: int, *, lead, other, provider, consumer) -> None:
    for n in range(count):
        agreement = proposed(
            user=lead,
            provider=provider,
            consumer=consumer,
            title=f"Agreement {n}",
            objectives=[objective_row(f"Objective {i}") for i in range(3)],
        )
        agreement_sign(agreement=agreement, user=other, team=consumer)


@pytest.mark.parametrize("persona", ["sales_lead", "executive"])
def test_list_query_count_does_not_grow(
    client,
    request,
    persona,
    marketing_lead,
    sales_lead,
    marketing,
    sales,
    django_assert_max_num_queries,
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    make_agreements(
        2, lead=marketing_lead, other=sales_lead, provider=marketing, consumer=sales
    )
    with django_assert_max_num_queries(12) as small:
        client.get(url("list"))
    make_agreements(
        20, lead=marketing_lead, other=sales_lead, provider=marketing, consumer=sales
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url("list"))
    assert len(response.context["page"].object_list) == 22


def test_detail_query_count_does_not_grow(
    client,
    marketing_lead,
    sales_lead,
    marketing,
    sales,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    small = proposed(user=marketing_lead, provider=marketing, consumer=sales, title="S")
    big = draft(
        user=marketing_lead,
        provider=marketing,
        consumer=sales,
        title="B",
        objectives=[objective_row(f"Objective {i}") for i in range(12)],
    )
    client.force_login(marketing_lead)
    for n in range(5):  # a longer history
        client.post(url("edit", big.pk), edit_data(big, title=f"B{n}"))
    client.post(url("propose", big.pk))
    client.post(url("sign", big.pk), {"team": marketing.pk})

    client.force_login(sales_lead)
    with django_assert_max_num_queries(20) as baseline:
        client.get(url("detail", small.pk))
    with django_assert_num_queries(len(baseline.captured_queries)):
        response = client.get(url("detail", big.pk))
    assert len(response.context["history"]) == 8
    assert len(response.context["objectives"]) == 12


# --- Detail -------------------------------------------------------------------


def test_detail_shows_parties_objectives_signatures_versions_and_history(
    client, marketing_lead, sales_lead, active_ms
):
    revision = agreement_revise(agreement=active_ms, user=marketing_lead)
    client.force_login(sales_lead)
    body = client.get(url("detail", active_ms.pk)).content.decode()
    assert "Marketing</span> promises" in body
    assert "Qualified leads" in body and "at least 200" in body
    signatures = body[body.index('data-testid="signatures"') :]
    for person in (marketing_lead, sales_lead):
        assert f"Signed by {person.get_full_name()}" in signatures
    assert revision.get_absolute_url() in body
    assert url("diff", active_ms.pk, revision.pk) in body
    history = body[body.index('data-testid="history"') :]
    assert "Signed by both parties: active" in history
    assert "Proposed for signature" in history
    assert "Drafted" in history
    assert "<del>Draft</del> → Proposed" in history


def test_history_shows_changed_fields_old_and_new(client, marketing_lead, draft_ms):
    client.force_login(marketing_lead)
    end = default_start().replace(month=12, day=31)
    client.post(
        url("edit", draft_ms.pk),
        edit_data(draft_ms, title="New title", effective_to=end.isoformat()),
    )
    body = client.get(url("detail", draft_ms.pk)).content.decode()
    assert "Title</span>: <del>Leads for sales</del> → New title" in body
    assert f"In force until</span>: <del>—</del> → 31 Dec {end.year}" in body
    assert marketing_lead.get_full_name() in body


def test_detail_links_an_old_version_to_the_newest(client, marketing_lead, active_ms):
    revision = agreement_revise(agreement=active_ms, user=marketing_lead)
    client.force_login(marketing_lead)
    body = client.get(url("detail", active_ms.pk)).content.decode()
    assert "Go to version 2 (draft)" in body
    assert revision.get_absolute_url() in body


# --- Diff ---------------------------------------------------------------------


def test_diff_shows_added_removed_and_retargeted_objectives(
    client, marketing_lead, sales_lead, marketing, sales
):
    v1 = active(
        user=marketing_lead,
        other_signer=sales_lead,
        provider=marketing,
        consumer=sales,
        objectives=[
            objective_row("Qualified leads", target=Decimal("200")),
            objective_row("Leads delivered", metric_source="leads_delivered"),
            objective_row("Unchanged"),
        ],
    )
    v2 = agreement_revise(agreement=v1, user=marketing_lead)
    qualified, _, unchanged = v2.objectives.all()
    client.force_login(marketing_lead)
    client.post(
        url("edit", v2.pk),
        edit_data(
            v2,
            title="Better leads",
            objectives=[
                {
                    "id": qualified.pk,
                    "name": "Qualified leads",
                    "metric_source": "qualified_leads",
                    "target": "250",
                    "weight": "2",
                },
                {
                    "id": unchanged.pk,
                    "name": "Unchanged",
                    "metric_source": "qualified_leads",
                    "target": "200",
                },
                {
                    "name": "Response time",
                    "comparator": "at_most",
                    "unit": "hours",
                    "target": "4",
                },
            ],
        ),
    )
    response = client.get(url("diff", v1.pk, v2.pk))
    assert response.status_code == 200
    diff = response.context["diff"]
    assert [o.name for o in diff.added] == ["Response time"]
    assert [o.name for o in diff.removed] == ["Leads delivered"]
    assert [
        (r.name, [(c.label, c.old, c.new) for c in r.changes]) for r in diff.retargeted
    ] == [("Qualified leads", [("Target", "200", "250"), ("Weight", "1", "2")])]
    assert [o.name for o in diff.unchanged] == ["Unchanged"]
    assert [(c.label, c.old, c.new) for c in diff.terms] == [
        ("Title", "Leads for sales", "Better leads")
    ]
    body = response.content.decode()
    assert (
        '<span class="sp-diff-old">200</span> → <span class="sp-diff-new">250</span>'
        in body
    )


def test_diff_of_unrelated_agreements_is_a_404(
    client, marketing_lead, marketing, sales, draft_ms
):
    other = draft(user=marketing_lead, provider=marketing, consumer=sales, title="X")
    client.force_login(marketing_lead)
    assert client.get(url("diff", draft_ms.pk, other.pk)).status_code == 404


def test_diff_with_a_version_one_cannot_see_is_a_404(
    client, marketing_lead, sales_lead, service, active_ms
):
    revision = agreement_revise(agreement=active_ms, user=sales_lead)
    # The revision moves to Sales → Customer Service: Marketing no longer sees it.
    revision.provider = active_ms.consumer
    revision.consumer = service
    revision.save()
    client.force_login(marketing_lead)
    assert client.get(url("diff", active_ms.pk, revision.pk)).status_code == 404
    assert client.get(url("diff", revision.pk, active_ms.pk)).status_code == 404


# --- Chain --------------------------------------------------------------------


@pytest.fixture
def demo_chain(marketing_lead, sales_lead, service_head, marketing, sales, service):
    """The demo's four active links, plus a draft that must not show."""
    links = {}
    for title, provider, consumer, lead, other in [
        ("Qualified leads", marketing, sales, marketing_lead, sales_lead),
        ("Lead follow-up", sales, marketing, sales_lead, marketing_lead),
        ("Customer handover", sales, service, sales_lead, service_head),
        ("Onboarding in 14 days", service, sales, service_head, sales_lead),
    ]:
        links[title] = active(
            user=lead,
            other_signer=other,
            provider=provider,
            consumer=consumer,
            title=title,
        )
    draft(user=marketing_lead, provider=marketing, consumer=sales, title="Only a draft")
    return links


def test_chain_draws_visible_active_agreements_as_links(client, demo_chain, sales_lead):
    client.force_login(sales_lead)
    response = client.get(url("chain"))
    svg = str(response.context["svg"])
    assert svg.startswith("<svg")
    for agreement in demo_chain.values():
        assert f'href="{agreement.get_absolute_url()}"' in svg
    assert "Only a draft" not in svg
    # Teams in the order work flows through them.
    assert (
        svg.index(">Marketing<")
        < svg.index(">Sales<")
        < svg.index(">Customer Service<")
    )


def test_chain_leaves_out_agreements_one_may_not_see(
    client, demo_chain, marketing_lead
):
    client.force_login(marketing_lead)
    svg = str(client.get(url("chain")).context["svg"])
    assert "Qualified leads" in svg and "Lead follow-up" in svg
    assert "Customer handover" not in svg and "Onboarding" not in svg


def test_chain_shows_an_empty_state(client, outsider):
    client.force_login(outsider)
    body = client.get(url("chain")).content.decode()
    assert "No signed agreements yet." in body
    assert "<svg" not in body


def test_chain_svg_escapes_titles_and_curves_by_direction():
    marketing = Team(pk=1, name="Marketing", slug="m", kind=Team.Kind.MARKETING)
    sales = Team(pk=2, name="Sales & Co <b>", slug="s", kind=Team.Kind.SALES)
    svg = chain_svg(
        [sales, marketing],
        [
            ChainLink(marketing, sales, "<script>x</script>", "/a/1/"),
            ChainLink(sales, marketing, "Back", "/a/2/?x=1&y=2", colour="#2e7d32"),
        ],
    )
    assert "<script>" not in svg and "&lt;script&gt;x&lt;/script&gt;" in svg
    assert "Sales &amp; Co &lt;b&gt;" in svg
    assert 'href="/a/2/?x=1&amp;y=2"' in svg
    assert f'stroke="{NEUTRAL}"' in svg and 'stroke="#2e7d32"' in svg
    # Forward above the boxes (control point above), backward below.
    paths = re.findall(r'<path d="M([\d.]+),([\d.]+) Q[\d.]+,(-?[\d.]+)', svg)
    (_, fy, fc), (_, by, bc) = paths[0], paths[2]
    assert float(fc) < float(fy)
    assert float(bc) > float(by)


def test_chain_link_refuses_a_colour_that_is_not_one():
    team = Team(pk=1, name="A", slug="a")
    with pytest.raises(ValueError):
        ChainLink(team, team, "t", "/", colour='red" onclick="x')


def test_chain_orders_teams_marketing_sales_service_then_others():
    teams = [
        Team(pk=1, name="Zeta", kind=Team.Kind.OTHER),
        Team(pk=2, name="Customer Service", kind=Team.Kind.CUSTOMER_SERVICE),
        Team(pk=3, name="Alpha", kind=Team.Kind.OTHER),
        Team(pk=4, name="Sales", kind=Team.Kind.SALES),
        Team(pk=5, name="Marketing", kind=Team.Kind.MARKETING),
    ]
    assert [t.name for t in ordered_teams(teams)] == [
        "Marketing",
        "Sales",
        "Customer Service",
        "Alpha",
        "Zeta",
    ]


def test_chain_shows_a_leads_own_team_even_without_links(client, demo_chain):
    ops = TeamFactory(name="Operations")
    from agreements.tests.factories import MembershipFactory

    lead = MembershipFactory(team=ops, role="lead").user
    client.force_login(lead)
    response = client.get(url("chain"))
    assert response.status_code == 200
    assert "No signed agreements yet." in response.content.decode()


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
