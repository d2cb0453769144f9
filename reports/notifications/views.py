from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import PreferencesForm
from .preferences import SWITCHES, preferences_of, preferences_update


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The emails the signed-in person wants; only ever their own."""
    current = preferences_of(request.user)
    form = PreferencesForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        preferences_update(
            user=request.user, **{name: form.cleaned_data[name] for name in SWITCHES}
        )
        messages.success(request, "Your email preferences were saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
