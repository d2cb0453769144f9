"""Response headers every page gets, and a security log line for every
refused access."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control

security = logging.getLogger("slaportal.security")
REFUSED = {401, 403, 404}


class SecurityHeadersMiddleware:
    """``Permissions-Policy`` on every response, and ``Cache-Control:
    private, no-store`` on every response to a signed-in person (pages,
    exports, the API): a shared cache or the browser's disk must not keep a
    scorecard or a CSV for the next person at that machine."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if response.status_code in REFUSED:
            log_refused(request, response.status_code)
        if (user is not None and user.is_authenticated) or _is_export(response):
            patch_cache_control(response, private=True, no_store=True)
        return response


def _is_export(response: HttpResponse) -> bool:
    return response.get("Content-Disposition", "").startswith("attachment")


def log_refused(request: HttpRequest, status: int) -> None:
    """One line per refused access (401, 403, or 404: "not found or not yours
    to see"): who, what, no secrets. The path only: a query string or a
    header may carry a token."""
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    security.warning(
        "access_refused status=%s method=%s path=%s user=%s",
        status,
        request.method,
        request.path,
        user_id if user_id is not None else "anonymous",
        extra={
            "event": "access_refused",
            "status": status,
            "method": request.method,
            "path": request.path,
            "user_id": user_id,
        },
    )


class DatabaseUnavailableMiddleware:
    """A database that stopped answering (a restart, a failover) is a 503
    with ``Retry-After``, not a 500: nothing was written, and the next request
    reconnects by itself (``CONN_HEALTH_CHECKS``)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        from django.db import InterfaceError, OperationalError

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        return database_unavailable(request, exception)


def database_unavailable(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 503 of a database that does not answer, for pages and the API."""
    logging.getLogger(__name__).error(
        "database unavailable: %s", exception.__class__.__name__
    )
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "error": {
                    "status": 503,
                    "code": "database_unavailable",
                    "message": "The database is not answering; nothing was "
                    "saved. Try again in a minute.",
                }
            },
            status=503,
        )
    else:
        # Rendered without the request: the page's usual context (the
        # signed-in person, the navigation) needs the database.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    return response
