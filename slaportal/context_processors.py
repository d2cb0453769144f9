from __future__ import annotations

from django.urls import reverse

from agreements.rules import can


def navigation(request) -> dict:
    """Navigation links that fit the person: only what they may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match else ""
    items = [
        {
            "label": "My month",
            "url": reverse("home"),
            "name": "home",
            "active": view == "home",
        },
        {
            "label": "Agreements",
            "url": reverse("agreements:list"),
            "name": "agreements",
            "active": view.startswith("agreements:"),
        },
        {
            "label": "Chain",
            "url": reverse("reports:chain"),
            "name": "chain",
            "active": view == "reports:chain",
        },
        {
            "label": "Teams",
            "url": reverse("reports:teams"),
            "name": "teams",
            "active": view in ("reports:teams", "reports:team"),
        },
    ]
    # Figures and friction belong to teams: for their members, and for
    # executives who read every team's. The knowledge base follows its rule.
    if can(user, "view_team_figures"):
        items += [
            {
                "label": "Figures",
                "url": reverse("figures:index"),
                "name": "figures",
                # A team's records are figures its tools send, measured
                # in working calendars.
                "active": view.startswith(("figures:", "records:", "calendars:")),
            },
            {
                "label": "Friction",
                "url": reverse("friction:list"),
                "name": "friction",
                "active": view.startswith("friction:"),
            },
        ]
    if can(user, "view_knowledge_base"):
        items.append(
            {
                "label": "Knowledge base",
                "url": reverse("knowledge:list"),
                "name": "knowledge",
                "active": view.startswith("knowledge:"),
            }
        )
    if can(user, "view_dashboard"):
        items.insert(
            1,
            {
                "label": "Dashboard",
                "url": reverse("reports:dashboard"),
                "name": "dashboard",
                "active": view == "reports:dashboard",
            },
        )
    if user.is_staff:
        items.append(
            {
                "label": "Admin",
                "url": reverse("admin:index"),
                "name": "admin",
                "active": False,
            }
        )
    return {"nav_items": items}
