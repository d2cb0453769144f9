"""The portal's own error pages while DEBUG is on (the demo, ``make run``).

With DEBUG, Django answers a refused or unknown address with its technical
page (yellow, listing every URL pattern) instead of 403.html or 404.html; a
person trying the demo should see what production shows, with its way back.
Off DEBUG this middleware does nothing: Django's own handlers render the
same templates. An error (500) still reaches the console with its traceback;
SLA_TECHNICAL_ERROR_PAGES=true brings Django's debugging pages back.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

logger = logging.getLogger("django.request")


def _active() -> bool:
    return settings.DEBUG and not getattr(settings, "TECHNICAL_ERROR_PAGES", False)


class OwnErrorPagesMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and _active()
            and "text/html" in response.get("Content-Type", "")
            and not _resolves(request.path_info)
        ):
            # No address matched: Django answered before any view ran.
            return render(request, "404.html", status=404)
        return response

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not _active():
            return None
        if isinstance(exception, Http404):
            return render(request, "404.html", status=404)
        if isinstance(exception, PermissionDenied):
            return render(request, "403.html", status=403)
        from .views import server_error  # the production handler500

        logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exception,
            extra={"status_code": 500, "request": request},
        )
        return server_error(request)


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True
