"""The working calendar pages, under /calendars/."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "calendars"

# Where each form of a calendar's page (``views.CHANGES``) posts.
CHANGE_ROUTES = {
    "hours": ("hours/", "interval_add"),
    "holiday": ("holidays/", "holiday_add"),
    "seed": ("holidays/seed/", "holidays_seed"),
    "ics": ("holidays/import/", "holidays_import"),
}

urlpatterns = [
    path("", views.calendar_list, name="list"),
    path("new/", views.calendar_new, name="new"),
    path("<int:pk>/", views.calendar_detail, name="detail"),
    *(
        path(f"<int:pk>/{route}", views.calendar_change, {"prefix": prefix}, name=name)
        for prefix, (route, name) in CHANGE_ROUTES.items()
    ),
    path(
        "<int:pk>/hours/<int:row>/remove/",
        views.row_remove,
        {"kind": "hours"},
        name="interval_remove",
    ),
    path(
        "<int:pk>/holidays/<int:row>/remove/",
        views.row_remove,
        {"kind": "holiday"},
        name="holiday_remove",
    ),
]
