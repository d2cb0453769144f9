from __future__ import annotations

from django.urls import reverse


def navigation(request) -> dict:
    """Navigation links that fit the person: only what they may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [{"label": "My month", "url": reverse("home"), "name": "home"}]
    if user.is_staff:
        items.append({"label": "Admin", "url": reverse("admin:index"), "name": "admin"})
    return {"nav_items": items}
