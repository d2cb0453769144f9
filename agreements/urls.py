from __future__ import annotations

from django.urls import path

from .views import actions, editor, pages

app_name = "agreements"

urlpatterns = [
    path("", pages.agreement_list, name="list"),
    path("new/", editor.agreement_new, name="create"),
    path("objective-row/", editor.objective_row_add, name="objective_row_add"),
    path(
        "objective-row/remove/",
        editor.objective_row_remove,
        name="objective_row_remove",
    ),
    path(
        "objective-row/restore/",
        editor.objective_row_restore,
        name="objective_row_restore",
    ),
    path("<int:pk>/", pages.agreement_detail, name="detail"),
    path("<int:pk>/edit/", editor.agreement_edit, name="edit"),
    path("<int:pk>/diff/<int:other_pk>/", pages.agreement_diff, name="diff"),
    path("<int:pk>/propose/", actions.propose, name="propose"),
    path("<int:pk>/sign/", actions.sign, name="sign"),
    path("<int:pk>/request-changes/", actions.request_changes, name="request_changes"),
    path("<int:pk>/revise/", actions.revise, name="revise"),
    path("<int:pk>/retire/", actions.retire, name="retire"),
]
