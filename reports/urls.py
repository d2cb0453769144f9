from __future__ import annotations

from django.urls import path

from .views import breaches, chain, dashboard, evidence, scorecards, teams

app_name = "reports"

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("chain/", chain.chain, name="chain"),
    path("dashboard.csv", dashboard.dashboard_csv, name="dashboard_csv"),
    path("agreements/<int:pk>/", scorecards.scorecard, name="scorecard"),
    path(
        "agreements/<int:pk>/scorecard.csv",
        scorecards.scorecard_csv,
        name="scorecard_csv",
    ),
    path(
        "agreements/<int:pk>/scorecard.pdf",
        scorecards.scorecard_pdf,
        name="scorecard_pdf",
    ),
    path(
        "agreements/<int:pk>/print/",
        scorecards.scorecard_print,
        name="scorecard_print",
    ),
    path(
        "agreements/<int:pk>/objectives/<int:objective_pk>/evidence/",
        evidence.evidence,
        name="evidence",
    ),
    path(
        "agreements/<int:pk>/objectives/<int:objective_pk>/evidence/apply/",
        evidence.evidence_apply,
        name="evidence_apply",
    ),
    path(
        "agreements/<int:pk>/objectives/<int:objective_pk>/evidence.csv",
        evidence.evidence_csv,
        name="evidence_csv",
    ),
    path("teams/", teams.team_list, name="teams"),
    path("teams/<slug:slug>/", teams.team, name="team"),
    path("breaches/<int:pk>/", breaches.breach_detail, name="breach"),
    path(
        "breaches/<int:pk>/acknowledge/",
        breaches.breach_acknowledge,
        name="breach_acknowledge",
    ),
    path("breaches/<int:pk>/resolve/", breaches.breach_resolve, name="breach_resolve"),
]
