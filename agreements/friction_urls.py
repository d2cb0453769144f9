"""The friction report pages, under /friction/."""

from __future__ import annotations

from django.urls import path

from .views import friction

app_name = "friction"

urlpatterns = [
    path("", friction.friction_list, name="list"),
    path("new/", friction.friction_new, name="create"),
    path("<int:pk>/", friction.friction_detail, name="detail"),
    path("<int:pk>/edit/", friction.friction_edit, name="edit"),
    path("<int:pk>/delete/", friction.friction_delete, name="delete"),
    path("<int:pk>/correct/", friction.friction_correct, name="correct"),
    path("<int:pk>/status/", friction.friction_status, name="status"),
    path("<int:pk>/comment/", friction.friction_comment, name="comment"),
    path("<int:pk>/link/", friction.friction_link, name="link"),
]
