from __future__ import annotations

from .inbox import UnreadCount


def inbox(request) -> dict:
    """The bell's unread count, counted only on a page that shows the bell."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox": UnreadCount(user)}
