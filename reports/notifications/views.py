from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from agreements.models import Team
from agreements.rules import can
from agreements.views.common import paginate

from ..models import Notification
from .forms import PreferencesForm
from .inbox import entries, notification_read, notifications_read_all
from .preferences import SWITCHES, TIMINGS, preferences_of, preferences_update

INBOX_PAGE_SIZE = 30


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The signed-in person's notifications, newest first; only their own."""
    page = paginate(
        request,
        Notification.objects.filter(recipient=request.user),
        size=INBOX_PAGE_SIZE,
    )
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "entries": entries(request.user, list(page.object_list))},
    )


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification to its object's page, marking it read. The
    object's page decides, as ever, whether its reader may see it."""
    notification = get_object_or_404(
        Notification.objects.filter(recipient=request.user), pk=pk
    )
    notification_read(notification=notification)
    target = notification.url
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "notifications:inbox"
    return redirect(target)


@require_POST
@login_required
def read_all(request: HttpRequest) -> HttpResponse:
    count = notifications_read_all(user=request.user)
    if count:
        messages.success(
            request,
            f"{count} notification{'s' if count != 1 else ''} marked as read.",
        )
    return redirect("notifications:inbox")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The emails the signed-in person wants; only ever their own."""
    current = preferences_of(request.user)
    form = PreferencesForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        preferences_update(
            user=request.user,
            **{name: form.cleaned_data[name] for name in (*SWITCHES, *TIMINGS)},
        )
        messages.success(request, "Your email preferences were saved.")
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "timing_fields": [form[name] for name in TIMINGS],
            # The teams whose Slack or Teams channels the person connects.
            "headed_teams": [
                team
                for team in Team.objects.of_user(request.user).order_by("name")
                if can(request.user, "manage_team_channels", team)
            ],
        },
    )
