"""How a team's objectives stand in a month, for the figures pages.

The one engine that judges a month lives in ``reports`` (``reports.selectors``)
and every page takes its verdict from there. ``agreements`` does not import
``reports``, so its pages ask through this port, which the reports app fills
in when Django starts (``ReportsConfig.ready``): the figures pages show the
engine's own lines, never a verdict of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Protocol


class Line(Protocol):
    """What the figures pages read of an engine line
    (``reports.selectors.LineView``)."""

    objective: Any
    target: Any
    status: str
    actual: Any


# (team, months) -> {(objective id, month): line}
Provider = Callable[[Any, Iterable[dt.date]], dict[tuple[int, dt.date], Line]]
_provider: Provider | None = None


def provide(provider: Provider) -> None:
    global _provider
    _provider = provider


def team_lines(team, months: Iterable[dt.date]) -> dict[tuple[int, dt.date], Line]:
    """Every objective ``team`` owes in ``months``, keyed by (objective id,
    month): the engine's line, with its status and actual."""
    if _provider is None:
        raise RuntimeError("the reports app is not installed: no scorecard engine")
    return _provider(team, months)
