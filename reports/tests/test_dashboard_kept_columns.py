"""The heat map's settled months (every month shown but the running one) are
kept for each page while their judgements stand: figures logged for the
running month make the page compute that month alone, and a change to a
settled month, or its close, is shown at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from reports.selectors import overview
from reports.selectors.cards import State, cards_for
from reports.services import scorecards_finalise
from slaportal import freshness

from .builders import FEBRUARY, JANUARY, build_org, leads_agreement, log_leads

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("reports:dashboard")


@pytest.fixture
def computed(monkeypatch) -> list[list[dt.date]]:
    """The months each of the heat map's ``cards_for`` calls asked for."""
    asked: list[list[dt.date]] = []

    def counting(months, **kwargs):
        months = list(months)
        asked.append(sorted(months))
        return cards_for(months, **kwargs)

    monkeypatch.setattr(overview, "cards_for", counting)
    return asked


def _shown(card) -> tuple[int, str, str, int]:
    return (card.agreement.pk, card.status, card.state, card.met_count)


def cells(client) -> dict[tuple[str, dt.date], tuple[int, str, str, int]]:
    """Each cell of the page: its version, status, state and objectives met."""
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    board = response.context["board"]
    return {
        (row.agreement.title, month): _shown(cell)
        for row in board.rows
        for month, cell in zip(board.months, row.cells, strict=True)
        if cell is not None
    }


def as_computed_now(agreements) -> dict[tuple[str, dt.date], tuple[int, str, str, int]]:
    """The same cells computed afresh for every month, nothing kept."""
    from agreements import periods
    from agreements.models import Agreement

    months = periods.recent_months(12)
    shown = Agreement.objects.filter(lineage__in=[a.lineage for a in agreements])
    return {
        (card.agreement.title, month): _shown(card)
        for (_lineage, month), card in cards_for(
            months, agreements=shown, lines_for=[]
        ).items()
    }


def test_figures_of_the_running_month_compute_that_month_alone(
    client, executive, frozen, memory_cache, computed
):
    agreements = build_org(3)
    client.force_login(executive)
    first = cells(client)
    assert first == as_computed_now(agreements)
    # One call for the eleven settled months, one for February (and one
    # for January's organisation-wide judgement, kept on its own).
    settled = [months for months in computed if len(months) > 1]
    assert len(settled) == 1 and FEBRUARY not in settled[0]
    assert [FEBRUARY] in computed

    computed.clear()
    log_leads(agreements[0].provider, dt.date(2026, 2, 9), 500, 300)
    second = cells(client)
    assert computed == [[FEBRUARY]]
    assert second == as_computed_now(agreements)
    assert {k: v for k, v in second.items() if k[1] != FEBRUARY} == {
        k: v for k, v in first.items() if k[1] != FEBRUARY
    }


def test_a_change_to_a_settled_month_is_shown_at_once(
    client, executive, frozen, memory_cache, computed
):
    agreements = build_org(2)
    client.force_login(executive)
    before = cells(client)

    # Agreement 1's January uptime (met) taken back: January is judged again.
    agreements[1].objectives.get(name="Uptime").measurements.get().delete()
    computed.clear()
    after = cells(client)
    assert any(JANUARY in months for months in computed)
    assert after == as_computed_now(agreements)
    assert before[("Agreement 1", JANUARY)][3] == 1
    assert after[("Agreement 1", JANUARY)][3] == 0


def test_the_close_of_a_month_is_shown_at_once(
    client, executive, frozen, memory_cache, computed
):
    agreements = build_org(2)
    client.force_login(executive)
    assert cells(client)[("Agreement 1", JANUARY)][2] == State.LOCKED

    scorecards_finalise(month=JANUARY)
    after = cells(client)
    assert after[("Agreement 1", JANUARY)][2] == State.FINALISED
    assert after == as_computed_now(agreements)


def test_a_new_version_keeps_each_month_s_own_version(
    client, executive, frozen, memory_cache
):
    """A kept cell links to the version in force in its month, not the row's."""
    from agreements.models import Agreement

    agreement = build_org(1)[0]
    client.force_login(executive)
    cells(client)
    agreement.status = Agreement.Status.RETIRED
    agreement.retired_at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    agreement.save()
    successor = leads_agreement(
        agreement.provider,
        agreement.consumer,
        title=agreement.title,
        effective_from=FEBRUARY,
        lineage=agreement.lineage,
        version=2,
        supersedes=agreement,
    )
    first = cells(client)  # built: an agreement moved every month
    freshness.bump()  # the page built again, its settled months kept
    kept = cells(client)
    assert kept == first == as_computed_now([agreement])
    assert kept[("Agreement 0", JANUARY)][0] == agreement.pk
    assert kept[("Agreement 0", FEBRUARY)][0] == successor.pk


def test_a_finalised_month_recomputed_after_a_correction_is_shown_at_once(
    client, executive, frozen, memory_cache
):
    agreements = build_org(2)
    scorecards_finalise(month=JANUARY)
    client.force_login(executive)
    assert cells(client)[("Agreement 1", JANUARY)][3] == 1

    # The figure taken back: the stored scorecard stands until the month is
    # recomputed, and the page built meanwhile keeps what it says.
    agreements[1].objectives.get(name="Uptime").measurements.get().delete()
    assert cells(client)[("Agreement 1", JANUARY)][3] == 1
    scorecards_finalise(month=JANUARY)
    after = cells(client)
    assert after[("Agreement 1", JANUARY)][3] == 0
    assert after == as_computed_now(agreements)


def _titles(client) -> list[str]:
    return [row.agreement.title for row in client.get(DASHBOARD).context["board"].rows]


def test_the_heat_map_s_order_follows_a_renamed_team_and_a_new_agreement_at_once(
    client, executive, frozen, memory_cache
):
    """The rows' order is kept while figures arrive, and follows at once a
    change of what it sorts by (a team's name) or of what it lists."""
    agreements = build_org(3)
    client.force_login(executive)
    assert _titles(client) == ["Agreement 0", "Agreement 1", "Agreement 2"]

    log_leads(agreements[0].provider, dt.date(2026, 2, 9), 500, 300)
    assert _titles(client) == ["Agreement 0", "Agreement 1", "Agreement 2"]

    # Provider names sort the rows: the last provider renamed to come first.
    provider = agreements[2].provider
    provider.name = "Aardvark provider"
    provider.save()
    assert _titles(client) == ["Agreement 2", "Agreement 0", "Agreement 1"]

    # Its consumer (of Agreement 0) sorts before Agreement 2's.
    leads_agreement(provider, agreements[0].consumer, title="Agreement new")
    assert _titles(client) == [
        "Agreement new",
        "Agreement 2",
        "Agreement 0",
        "Agreement 1",
    ]
