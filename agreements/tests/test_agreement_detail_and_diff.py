"""An agreement's page (parties, objectives, signatures, versions and
history) and the diff between two of its versions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agreements.services.agreements import agreement_revise
from agreements.tests.agreement_pages import edit_data, url
from agreements.tests.builders import (
    active,
    default_start,
    draft,
    objective_row,
    proposed,
)

pytestmark = pytest.mark.django_db


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
