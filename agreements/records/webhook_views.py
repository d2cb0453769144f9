"""A record source's webhook page, for a head of its team (or an
administrator): the address the source's tool posts to, how it signs each
request, and the secret, set, rotated or switched off here.

A new secret is shown once, on the page the change leads to (carried there
in the session and dropped as it is shown); afterwards only its last four
characters are.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from ..rules import can
from ..views.common import require
from .hooks import MAX_SKEW_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER
from .models import RecordSource
from .sources import source_webhook_off, source_webhook_secret_rotate

SESSION_KEY = "records_webhook_shown"

# A batch as the webhook takes it, for the page's example.
_EXAMPLES = {
    RecordSource.Kind.REQUESTS: {
        "records": [
            {
                "external_id": "T-1042",
                "started_at": "2026-06-02T09:14:00+02:00",
                "first_response_at": "2026-06-02T10:02:00+02:00",
                "segment": "P2",
                "updated_at": "2026-06-02T10:02:00+02:00",
            }
        ]
    },
    RecordSource.Kind.LEADS: {
        "records": [
            {
                "external_id": "1042",
                "started_at": "2026-06-02T09:14:00+02:00",
                "email": "ann@example.com",
                "stage": "Marketing Qualified Lead",
                "qualified": True,
                "updated_at": "2026-06-02T09:14:00+02:00",
            }
        ]
    },
    RecordSource.Kind.INCIDENTS: {
        "records": [
            {
                "external_id": "INC-311",
                "impact": "major",
                "component": "Portal",
                "started_at": "2026-06-02T09:14:00+02:00",
                "ended_at": "2026-06-02T09:52:00+02:00",
                "updated_at": "2026-06-02T09:52:00+02:00",
            }
        ]
    },
}


def _managed_source(request: HttpRequest, pk: int) -> RecordSource:
    """404 for a source the person may not see, 403 for one they see but
    may not set up."""
    source = get_object_or_404(RecordSource.objects.select_related("team"), pk=pk)
    if not can(request.user, "view_record_source", source):
        raise Http404("No such source.")
    require(
        request,
        "manage_record_sources",
        source,
        f"Only a head of {source.team} or an administrator sets up its webhook.",
    )
    return source


@never_cache
@login_required
def source_webhook(request: HttpRequest, pk: int) -> HttpResponse:
    source = _managed_source(request, pk)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "rotate":
            had_one = source.webhook_enabled
            source = source_webhook_secret_rotate(source=source, user=request.user)
            request.session[SESSION_KEY] = {
                "source": source.pk,
                "secret": source.webhook_secret,
            }
            messages.success(
                request,
                f"{source.name} has a new webhook secret: copy it now"
                + (", the old one no longer works." if had_one else "."),
            )
        elif action == "off":
            source_webhook_off(source=source, user=request.user)
            messages.success(
                request,
                f"The webhook of {source.name} is off: signed requests are refused "
                "until a new secret is set.",
            )
        else:
            return HttpResponse("Choose rotate or off.", status=400)
        return redirect("records:webhook", pk=source.pk)

    shown = request.session.pop(SESSION_KEY, None) or {}
    new_secret = shown.get("secret") if shown.get("source") == source.pk else None
    return render(
        request,
        "records/webhook.html",
        {
            "source": source,
            "url": request.build_absolute_uri(
                reverse("hooks:records", args=[source.pk])
            ),
            "new_secret": new_secret,
            "secret_end": source.webhook_secret[-4:],
            "timestamp_header": TIMESTAMP_HEADER,
            "signature_header": SIGNATURE_HEADER,
            "skew_minutes": MAX_SKEW_SECONDS // 60,
            "example": json.dumps(_EXAMPLES[source.kind], indent=2),
            "history": source.history.select_related("history_user").order_by(
                "-history_date"
            )[:10],
        },
    )
