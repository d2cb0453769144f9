"""The friction knowledge base, under /knowledge/."""

from __future__ import annotations

from django.urls import path

from .views import knowledge

app_name = "knowledge"

urlpatterns = [
    path("", knowledge.knowledge_list, name="list"),
    path("new/", knowledge.knowledge_new, name="create"),
    path("<int:pk>/", knowledge.knowledge_detail, name="detail"),
    path("<int:pk>/edit/", knowledge.knowledge_edit, name="edit"),
    path("<int:pk>/merge/", knowledge.knowledge_merge, name="merge"),
]
