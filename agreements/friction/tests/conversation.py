"""What the friction conversation's tests count to show nothing was written."""

from __future__ import annotations

from agreements.models import FrictionComment, FrictionReport


def written() -> tuple:
    return (
        FrictionReport.history.count(),
        FrictionComment.objects.count(),
        FrictionComment.history.count(),
    )
