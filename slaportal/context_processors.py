from __future__ import annotations

from django.urls import reverse


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
            # Every agreement page but the chain belongs under this item.
            "active": view.startswith("agreements:") and view != "agreements:chain",
        },
        {
            "label": "Chain",
            "url": reverse("agreements:chain"),
            "name": "chain",
            "active": view == "agreements:chain",
        },
    ]
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
