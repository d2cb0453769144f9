"""A team's channels page, for its heads: connect a Slack or Teams channel,
choose its events, send a test message, remove it. The webhook address is
never shown again after it is saved: only its last four characters."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from agreements.models import Team
from agreements.views.common import require, visible_team

from .forms import ChannelAddForm, ChannelEventsForm
from .models import ChannelDelivery, TeamChannel
from .send import channel_test_post
from .services import channel_add, channel_events_update, channel_remove


def _managed_team(request: HttpRequest, slug: str) -> Team:
    """404 for a team the person may not see, 403 for one they see but do
    not head."""
    team = visible_team(request, slug)
    require(
        request,
        "manage_team_channels",
        team,
        f"Only a head of {team} connects its channels.",
    )
    return team


@never_cache
@sensitive_post_parameters("webhook_url")
@login_required
def team_channels(request: HttpRequest, slug: str) -> HttpResponse:
    team = _managed_team(request, slug)
    form = ChannelAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel = channel_add(
                team=team,
                user=request.user,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                webhook_url=form.cleaned_data["webhook_url"],
                events=form.cleaned_data["events"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, f"{channel.name} is connected. Send it a test message."
            )
            return redirect("notifications:team_channels", slug=team.slug)
    channels = list(team.channels.order_by("name"))
    recent = (
        ChannelDelivery.objects.filter(channel__team=team)
        .select_related("channel")
        .order_by("-created_at", "-pk")[:20]
    )
    return render(
        request,
        "notifications/team_channels.html",
        {
            "team": team,
            "form": form,
            "channels": [
                (c, ChannelEventsForm(initial={"events": c.events}, prefix=f"c{c.pk}"))
                for c in channels
            ],
            "recent": recent,
        },
    )


@require_POST
@login_required
def team_channel_action(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    team = _managed_team(request, slug)
    channel = get_object_or_404(TeamChannel, team=team, pk=pk)
    action = request.POST.get("action")
    if action == "events":
        form = ChannelEventsForm(request.POST, prefix=f"c{channel.pk}")
        if form.is_valid():
            channel_events_update(
                channel=channel, user=request.user, events=form.cleaned_data["events"]
            )
            messages.success(request, f"{channel.name}: events saved.")
        else:
            messages.error(request, "Choose events from the list.")
    elif action == "test":
        result = channel_test_post(channel, user=request.user)
        if result.ok:
            messages.success(request, f"A test message went to {channel.name}.")
        else:
            messages.error(request, f"{channel.name}: {result.error}")
    elif action == "remove":
        channel_remove(channel=channel, user=request.user)
        messages.success(request, f"{channel.name} is disconnected.")
    else:
        return HttpResponse("Choose events, test or remove.", status=400)
    return redirect("notifications:team_channels", slug=team.slug)
