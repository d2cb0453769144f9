"""The figures pages, under /figures/: each kind of figure in the registry,
measurements and the CSV import, per team."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path

from . import measurement_views as measurements
from . import team_views as teams
from . import views as figures
from .imports import views as imports
from .kinds import KINDS

app_name = "figures"

# A row kind's pages: those of a team's rows, then those of one row.
TEAM_PAGES = {"list": "", "new": "new/", "late": "late/"}
ROW_PAGES = {"detail": "", "edit": "edit/", "delete": "delete/", "correct": "correct/"}


def _pages(
    slug: str, views: dict[str, Callable[..., Any]], **kwargs: Any
) -> list[URLPattern]:
    """``figures:<slug>_<page>`` for each page, at ``<team>/<slug>/…`` and
    ``<slug>/<pk>/…``."""
    routes = {
        **{page: f"<slug:slug>/{slug}/{tail}" for page, tail in TEAM_PAGES.items()},
        **{page: f"{slug}/<int:pk>/{tail}" for page, tail in ROW_PAGES.items()},
    }
    return [
        path(route, views[page], kwargs, name=f"{slug}_{page}")
        for page, route in routes.items()
    ]


FIGURE_VIEWS = {
    "list": figures.figures_list,
    "new": figures.figures_new,
    "late": figures.figures_late,
    "detail": figures.figures_detail,
    "edit": figures.figures_edit,
    "delete": figures.figures_delete,
    "correct": figures.figures_correct,
}
MEASUREMENT_VIEWS = {
    "list": measurements.measurements_list,
    "new": measurements.measurement_new,
    "late": measurements.measurement_late,
    "detail": measurements.measurement_detail,
    "edit": measurements.measurement_edit,
    "delete": measurements.measurement_delete,
    "correct": measurements.measurement_correct,
}

urlpatterns = [
    path("", teams.figures_index, name="index"),
    path(
        "import/<str:kind>/template.csv",
        imports.import_template,
        name="import_template",
    ),
    *(pattern for slug in KINDS for pattern in _pages(slug, FIGURE_VIEWS, kind=slug)),
    path(
        "customers/<int:pk>/acknowledge/",
        figures.customer_acknowledge,
        name="customers_acknowledge",
    ),
    *_pages("measurements", MEASUREMENT_VIEWS),
    path("<slug:slug>/import/<str:kind>/", imports.import_upload, name="import"),
    path("<slug:slug>/", teams.team_figures, name="team"),
]
