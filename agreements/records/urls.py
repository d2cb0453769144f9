"""The record sources pages, under /records/."""

from __future__ import annotations

from django.urls import path

from . import batch_views, record_views, views, webhook_views

app_name = "records"

urlpatterns = [
    path("", views.source_list, name="sources"),
    path("<int:pk>/import/", views.import_upload, name="import"),
    path(
        "<int:pk>/import/<str:upload>/columns/",
        views.import_columns,
        name="import_columns",
    ),
    path(
        "<int:pk>/import/<str:upload>/preview/",
        views.import_preview,
        name="import_preview",
    ),
    path(
        "<int:pk>/import/<str:upload>/cancel/",
        views.import_cancel,
        name="import_cancel",
    ),
    path("<int:pk>/import/done/", views.import_done, name="import_done"),
    path(
        "<int:pk>/import/running/<int:batch>/",
        views.import_progress,
        name="import_progress",
    ),
    path("<int:pk>/imports/", batch_views.import_history, name="import_history"),
    path(
        "<int:pk>/imports/<int:batch>/undo/",
        batch_views.import_undo,
        name="import_undo",
    ),
    path("<int:pk>/records/", record_views.source_records, name="records"),
    path("<int:pk>/webhook/", webhook_views.source_webhook, name="webhook"),
]
