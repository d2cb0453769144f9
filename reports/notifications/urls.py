from __future__ import annotations

from django.urls import path

from . import views
from .channels import views as channels

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("read-all/", views.read_all, name="read_all"),
    path("preferences/", views.preferences, name="preferences"),
    path("teams/<slug:slug>/channels/", channels.team_channels, name="team_channels"),
    path(
        "teams/<slug:slug>/channels/<int:pk>/",
        channels.team_channel_action,
        name="team_channel_action",
    ),
]
