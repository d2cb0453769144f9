"""The friction pages: reports under /friction/, the knowledge base of pain
points under /knowledge/ (two namespaces, one module)."""

from __future__ import annotations

from django.urls import path

from . import knowledge_views as knowledge
from . import views as friction

report_patterns = [
    path("", friction.friction_list, name="list"),
    path("new/", friction.friction_new, name="create"),
    path("<int:pk>/", friction.friction_detail, name="detail"),
    path("<int:pk>/edit/", friction.friction_edit, name="edit"),
    path("<int:pk>/delete/", friction.friction_delete, name="delete"),
    path("<int:pk>/correct/", friction.friction_correct, name="correct"),
    path("<int:pk>/status/", friction.friction_status, name="status"),
    path("<int:pk>/comment/", friction.friction_comment, name="comment"),
    path("<int:pk>/assign/", friction.friction_assign, name="assign"),
    path("<int:pk>/link/", friction.friction_link, name="link"),
]

knowledge_patterns = [
    path("", knowledge.knowledge_list, name="list"),
    path("new/", knowledge.knowledge_new, name="create"),
    path("<int:pk>/", knowledge.knowledge_detail, name="detail"),
    path("<int:pk>/edit/", knowledge.knowledge_edit, name="edit"),
    path("<int:pk>/merge/", knowledge.knowledge_merge, name="merge"),
]

reports = (report_patterns, "friction")
knowledge_base = (knowledge_patterns, "knowledge")
