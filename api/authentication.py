"""``Authorization: Bearer <token>`` with the personal tokens of the API
tokens page."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request

from .models import ApiToken
from .services import token_digest

# "Last used" is for people deciding which token to revoke: a minute's
# precision is plenty and spares a write on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # another scheme, or none: session authentication may apply
        if len(parts) != 2:
            self._count_failure(request)
            raise AuthenticationFailed(
                "Send the token as the header “Authorization: Bearer <token>”."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raw = ""
        token = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(digest=token_digest(raw))
            .first()
        )
        if token is None or not token.user.is_active:
            self._count_failure(request)
            raise AuthenticationFailed("This token is unknown or has been revoked.")
        now = timezone.now()
        stale = now - LAST_USED_PRECISION
        # The row just read tells whether the mark is stale: only then is the
        # UPDATE sent, so a token used every second costs one query, not two.
        # The UPDATE keeps its own condition for requests that race.
        if token.last_used_at is None or token.last_used_at < stale:
            ApiToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at=None) | Q(last_used_at__lt=stale)
            ).update(last_used_at=now)
        return token.user, token

    @staticmethod
    def _count_failure(request: Request) -> None:
        """A failed authentication counts against the anonymous limit of its
        address, and past it is answered 429: otherwise a wrong token, refused
        with 401 before any throttle runs, could be guessed at any rate."""
        from .throttling import AnonThrottle

        throttle = AnonThrottle()
        # The Django request: asking DRF's for its user here would start
        # authentication again.
        if not throttle.allow_request(request._request, None):
            raise Throttled(wait=throttle.wait())

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
