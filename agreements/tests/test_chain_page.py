"""The chain page: the signed agreements between teams drawn as an SVG, in
the order work flows through the teams."""

from __future__ import annotations

import re

import pytest

from agreements.models import Team
from agreements.tests.agreement_pages import url
from agreements.tests.builders import active, draft
from agreements.tests.factories import TeamFactory
from reports.chain import NEUTRAL, ChainLink, chain_svg, ordered_teams

pytestmark = pytest.mark.django_db


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
