"""The API tokens page: a person makes and revokes their own tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from agreements.views.editor import add_service_errors

from .forms import ApiTokenForm
from .models import ApiToken
from .services import MAX_ACTIVE_TOKENS, api_token_create, api_token_revoke


def _page(
    request: HttpRequest, form: ApiTokenForm, *, new_token: str | None = None
) -> HttpResponse:
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "tokens": ApiToken.objects.filter(user=request.user),
            "new_token": new_token,
            "max_tokens": MAX_ACTIVE_TOKENS,
        },
    )


@never_cache
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = api_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # Shown in this response only, never stored or redirected with:
            # reloading the page does not show it again.
            messages.success(request, f"Token “{token.name}” made.")
            return _page(request, ApiTokenForm(), new_token=raw)
    return _page(request, form)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Only the person's own tokens: another person's token is a 404.
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    if token.is_active:
        api_token_revoke(token=token, user=request.user)
        messages.success(
            request,
            f"Token “{token.name}” revoked: requests with it are now refused.",
        )
    return redirect("api_tokens")
