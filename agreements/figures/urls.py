"""The figures pages, under /figures/: lead log entries, closed customers,
measurements and the CSV import, per team."""

from __future__ import annotations

from django.urls import path

from . import measurement_views as measurements
from . import team_views as teams
from . import views as figures
from .imports import views as imports

app_name = "figures"


def _rows(kind: str) -> list:
    """The pages of one kind of row (``leads`` or ``customers``)."""
    return [
        path(
            f"<slug:slug>/{kind}/",
            figures.figures_list,
            {"kind": kind},
            name=f"{kind}_list",
        ),
        path(
            f"<slug:slug>/{kind}/new/",
            figures.figures_new,
            {"kind": kind},
            name=f"{kind}_new",
        ),
        path(
            f"<slug:slug>/{kind}/late/",
            figures.figures_late,
            {"kind": kind},
            name=f"{kind}_late",
        ),
        path(
            f"{kind}/<int:pk>/",
            figures.figures_detail,
            {"kind": kind},
            name=f"{kind}_detail",
        ),
        path(
            f"{kind}/<int:pk>/edit/",
            figures.figures_edit,
            {"kind": kind},
            name=f"{kind}_edit",
        ),
        path(
            f"{kind}/<int:pk>/delete/",
            figures.figures_delete,
            {"kind": kind},
            name=f"{kind}_delete",
        ),
        path(
            f"{kind}/<int:pk>/correct/",
            figures.figures_correct,
            {"kind": kind},
            name=f"{kind}_correct",
        ),
    ]


urlpatterns = [
    path("", teams.figures_index, name="index"),
    path(
        "import/<str:kind>/template.csv",
        imports.import_template,
        name="import_template",
    ),
    *_rows("leads"),
    *_rows("customers"),
    path(
        "customers/<int:pk>/acknowledge/",
        figures.customer_acknowledge,
        name="customers_acknowledge",
    ),
    path(
        "<slug:slug>/measurements/",
        measurements.measurements_list,
        name="measurements_list",
    ),
    path(
        "<slug:slug>/measurements/new/",
        measurements.measurement_new,
        name="measurements_new",
    ),
    path(
        "<slug:slug>/measurements/late/",
        measurements.measurement_late,
        name="measurements_late",
    ),
    path(
        "measurements/<int:pk>/",
        measurements.measurement_detail,
        name="measurements_detail",
    ),
    path(
        "measurements/<int:pk>/edit/",
        measurements.measurement_edit,
        name="measurements_edit",
    ),
    path(
        "measurements/<int:pk>/delete/",
        measurements.measurement_delete,
        name="measurements_delete",
    ),
    path(
        "measurements/<int:pk>/correct/",
        measurements.measurement_correct,
        name="measurements_correct",
    ),
    path("<slug:slug>/import/<str:kind>/", imports.import_upload, name="import"),
    path("<slug:slug>/", teams.team_figures, name="team"),
]
