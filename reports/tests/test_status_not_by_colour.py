"""No status is told by colour alone: every heat-map cell and status badge
carries a glyph and words, and a month still running is striped and says
"so far" (WCAG 1.4.1)."""

from __future__ import annotations

import re

import pytest

from .test_dashboard import DASHBOARD, org  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

CELL = re.compile(
    r'<td class="sp-cell (sp-cell-[a-z_]+)( sp-cell-live)?"[^>]*>(.*?)</td>'
)
GLYPH = re.compile(r'<span[^>]*aria-hidden="true">([^<]+)</span>')
WORDS = re.compile(r'<span class="visually-hidden">([^<]+)</span>')


def test_every_heat_map_cell_has_a_glyph_and_words(client, org, executive):  # noqa: F811
    client.force_login(executive)
    body = client.get(DASHBOARD).content.decode()
    found = CELL.findall(body)
    assert len(found) == 3 * 12
    kinds = set()
    for status, live, inner in found:
        glyph, words = GLYPH.search(inner), WORDS.search(inner)
        assert glyph and glyph.group(1).strip(), inner
        assert words and words.group(1).strip(), inner
        if status == "sp-cell-none":
            assert words.group(1) == "not in force"
        elif live:
            assert "so far" in words.group(1), inner
        else:
            assert "so far" not in words.group(1), inner
        kinds.add((status == "sp-cell-none", bool(live)))
    # Finished months, running ones and months out of force were all seen.
    assert kinds == {(False, False), (False, True), (True, False)}
    legend = body[body.index('data-testid="legend"') :]
    assert "Striped: this month or a closing one, so far" in legend
    assert "Not in force" in legend


def test_every_status_badge_has_a_glyph_and_words(client, org, executive):  # noqa: F811
    client.force_login(executive)
    body = client.get(DASHBOARD).content.decode()
    badges = re.findall(
        r'<span class="badge sp-score [^"]*"[^>]*>'
        r'<span class="sp-icon" aria-hidden="true">([^<]+)</span> ([^<]+)</span>',
        body,
    )
    assert badges
    assert all(glyph.strip() and words.strip() for glyph, words in badges)
