"""Who reaches which agreement page: login, navigation, and the permission
matrix of pages and actions."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from agreements.models import Agreement
from agreements.services.agreements import agreement_revise, agreement_sign
from agreements.tests.agreement_pages import snapshot, url
from agreements.tests.builders import active, draft, proposed

pytestmark = pytest.mark.django_db


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
