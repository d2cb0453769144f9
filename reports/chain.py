"""The chain diagram: teams as boxes, agreements as arrows from the provider to
the consumer, drawn server-side as SVG so that it works in pages and PDFs
without JavaScript.

Every piece of user text goes through ``format_html``/``escape``; the result is
safe to put in a template as is. Each link has its own colour (neutral by
default) so that scorecards can colour the chain by status.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from agreements.models import Team

NEUTRAL = "#6c7a89"
DASHED = mark_safe(' stroke-dasharray="7 5"')
_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$|^[a-z]+$")

# The order in which work flows through the company: leads, deals, customers.
KIND_ORDER = {
    Team.Kind.MARKETING: 0,
    Team.Kind.SALES: 1,
    Team.Kind.CUSTOMER_SERVICE: 2,
    Team.Kind.OTHER: 3,
}

NODE_W = 172
NODE_H = 60
GAP = 128
MARGIN = 24
LABEL_SPACE = 30
CHAR_W = 6.6  # average width of a 12px label character, for truncation
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', sans-serif"


@dataclass(frozen=True)
class ChainLink:
    """One arrow: ``provider`` promises ``title`` to ``consumer``."""

    provider: Team
    consumer: Team
    title: str
    url: str
    colour: str = NEUTRAL
    note: str = ""  # extra tooltip text, e.g. the latest scorecard status
    dashed: bool = False  # not settled: a month still closing, or not started

    def __post_init__(self) -> None:
        if not _COLOUR.match(self.colour):
            raise ValueError(f"not a colour: {self.colour!r}")


def ordered_teams(teams: Iterable[Team]) -> list[Team]:
    """Marketing, sales, customer service, then the others; by name within."""
    return sorted(
        set(teams), key=lambda t: (KIND_ORDER.get(t.kind, 9), t.name.lower(), t.pk)
    )


@dataclass(frozen=True)
class _Arc:
    link: ChainLink
    path: str
    label_x: float
    label_y: float
    max_chars: int


def _arcs(
    links: Sequence[ChainLink], centre: dict[int, float], top: float
) -> list[tuple[_Arc, float, bool]]:
    """Forward links (left to right) arc above the boxes, backward ones below;
    links between the same two teams in the same direction nest outwards."""
    bottom = top + NODE_H
    arcs = []
    stacked: dict[tuple[int, int], int] = defaultdict(int)
    for link in links:
        a, b = centre[link.provider.pk], centre[link.consumer.pk]
        forward = a < b
        key = (link.provider.pk, link.consumer.pk)
        level = stacked[key]
        stacked[key] += 1
        span = abs(b - a)
        rise = 34 + 0.16 * span + 34 * level  # height of the arc's apex
        shift = NODE_W * 0.22 + 8 * level
        if forward:
            x0, x1, y = a + shift, b - shift, top
            apex_y = y - rise
            label_y = apex_y - 8
        else:
            x0, x1, y = a - shift, b + shift, bottom
            apex_y = y + rise
            label_y = apex_y + 17
        control_y = 2 * apex_y - y  # a quadratic curve peaks halfway to its control
        arcs.append(
            (
                _Arc(
                    link=link,
                    path=f"M{x0:.1f},{y:.1f} Q{(x0 + x1) / 2:.1f},{control_y:.1f} "
                    f"{x1:.1f},{y:.1f}",
                    label_x=(x0 + x1) / 2,
                    label_y=label_y,
                    max_chars=max(14, int((span - 24) / CHAR_W)),
                ),
                rise,
                forward,
            )
        )
    return arcs


def _n(value: float) -> str:
    """A coordinate for SVG: one decimal at most."""
    return f"{value:.1f}".removesuffix(".0")


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def chain_svg(
    teams: Iterable[Team],
    links: Sequence[ChainLink],
    *,
    team_url: dict[int, str] | None = None,
    label: str = "Chain of agreements between teams",
) -> SafeString:
    """The diagram as an ``<svg>`` element. Teams without links are still
    drawn; links whose teams are not in ``teams`` are left out."""
    nodes = ordered_teams(teams)
    centre = {
        team.pk: MARGIN + NODE_W / 2 + i * (NODE_W + GAP)
        for i, team in enumerate(nodes)
    }
    links = [
        link
        for link in links
        if link.provider.pk in centre and link.consumer.pk in centre
    ]
    provides = Counter(link.provider.pk for link in links)
    consumes = Counter(link.consumer.pk for link in links)
    width = 2 * MARGIN + len(nodes) * NODE_W + max(len(nodes) - 1, 0) * GAP

    # First pass with the boxes at y=0 to learn how much room the arcs need.
    arcs = list(_arcs(links, centre, top=0))
    above = max([rise for _, rise, fwd in arcs if fwd], default=0)
    below = max([rise for _, rise, fwd in arcs if not fwd], default=0)
    top = MARGIN + (above + LABEL_SPACE if above else 0)
    height = top + NODE_H + (below + LABEL_SPACE if below else 0) + MARGIN
    arcs = [arc for arc, _, _ in _arcs(links, centre, top=top)]

    colours = sorted({arc.link.colour for arc in arcs})
    marker_id = {colour: f"chain-arrow-{i}" for i, colour in enumerate(colours)}
    markers = format_html_join(
        "",
        '<marker id="{}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>',
        ((marker_id[colour], colour) for colour in colours),
    )

    edges = format_html_join(
        "",
        '<a href="{}" class="chain-link"><title>{}</title>'
        '<path d="{}" fill="none" stroke="transparent" stroke-width="16"/>'
        '<path d="{}" fill="none" stroke="{}" stroke-width="2.5"{} '
        'marker-end="url(#{})"/>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="12" '
        'fill="#212529" stroke="#ffffff" stroke-width="4" paint-order="stroke" '
        'stroke-linejoin="round">{}</text></a>',
        (
            (
                arc.link.url,
                f"{arc.link.title}: {arc.link.provider.name} → "
                f"{arc.link.consumer.name}"
                + (f" ({arc.link.note})" if arc.link.note else ""),
                arc.path,
                arc.path,
                arc.link.colour,
                DASHED if arc.link.dashed else "",
                marker_id[arc.link.colour],
                _n(arc.label_x),
                _n(arc.label_y),
                _truncate(arc.link.title, arc.max_chars),
            )
            for arc in arcs
        ),
    )

    team_url = team_url or {}
    boxes = format_html_join(
        "",
        '<a href="{}" class="chain-team"><title>{}</title>'
        '<rect x="{}" y="{}" width="{}" height="{}" rx="10" fill="#ffffff" '
        'stroke="#1f5f8b" stroke-width="2"/>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="15" '
        'font-weight="600" fill="#16476a">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="11" '
        'fill="#6c757d">{}</text></a>',
        (
            (
                team_url.get(team.pk, "#"),
                f"Agreements of {team.name}",
                _n(centre[team.pk] - NODE_W / 2),
                _n(top),
                NODE_W,
                NODE_H,
                _n(centre[team.pk]),
                _n(top + 27),
                _truncate(team.name, 20),
                _n(centre[team.pk]),
                _n(top + 45),
                f"provides {provides[team.pk]} · receives {consumes[team.pk]}",
            )
            for team in nodes
        ),
    )

    # A group, not an image: its boxes and arrows are links a keyboard reaches.
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="group" aria-label="{label}" '
        'class="chain-diagram" font-family="{font}" style="max-width:100%;'
        'height:auto">'
        "<defs>{markers}</defs>{edges}{boxes}</svg>",
        w=width,
        h=_n(height),
        label=label,
        font=FONT,
        markers=markers,
        edges=edges,
        boxes=boxes,
    )
