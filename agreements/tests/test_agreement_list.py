"""The list of agreements: what each person sees, the filters, empty
states, escaping, and a query count that does not grow with rows."""

from __future__ import annotations

import pytest

from agreements.services.agreements import agreement_sign
from agreements.tests.agreement_pages import url
from agreements.tests.builders import active, draft, objective_row, proposed

pytestmark = pytest.mark.django_db


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
