"""Each record source's webhook: ``POST /hooks/records/<source id>/``, for
the tool that keeps the records (a helpdesk, a status page) to send them as
they change.

The body is the API's batch (``{"records": [...], "reason": "..."}``, see
``api.RecordsBatchSerializer``). There is no session and no token: the
request is signed with the source's secret (``RecordSource.webhook_secret``,
set by a head of its team)::

    X-Slaportal-Timestamp: 1783674000
    X-Slaportal-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

A timestamp more than five minutes from now is refused, so a captured
request cannot be sent again later; sent again within the five minutes it
changes nothing, as the batch is an idempotent upsert. Records come in
without a user, and only into open months: records of a locked month are a
correction, which a head sends through the API, with a reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework import exceptions

from api.exceptions import error_body, validation_error_body
from slaportal.net import client_ip

from .api import RecordsBatchSerializer, UpsertReportSerializer, records_invalid_body
from .models import RecordSource
from .rows import RecordsInvalid
from .services import records_upsert

security = logging.getLogger("slaportal.security")

TIMESTAMP_HEADER = "X-Slaportal-Timestamp"
SIGNATURE_HEADER = "X-Slaportal-Signature"
MAX_SKEW_SECONDS = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")

# Why a request is refused: the message it is answered with. An unknown
# source is answered as one without a secret, so that ids cannot be probed.
REFUSALS = {
    "unknown_source": "This source takes no webhook: a head of its team sets "
    "its secret first.",
    "no_secret": "This source takes no webhook: a head of its team sets its "
    "secret first.",
    "no_timestamp": f"Send {TIMESTAMP_HEADER}: the moment of the request, in "
    "Unix seconds.",
    "stale_timestamp": f"{TIMESTAMP_HEADER} is more than 5 minutes from now: "
    "sign each request as it is sent.",
    "bad_signature": f"{SIGNATURE_HEADER} does not match: send sha256= and the "
    "hex HMAC-SHA256 of “<timestamp>.<body>” with the source's secret.",
}


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slaportal-Signature`` of a request: what the sender computes."""
    digest = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"sha256={digest}"


def _verified_source(request: HttpRequest, source_id: int) -> RecordSource:
    """The source, if the request is signed with its secret now; else
    ``Refused`` with the reason."""
    source = RecordSource.objects.select_related("team").filter(pk=source_id).first()
    if source is None:
        raise Refused("unknown_source")
    if not source.webhook_secret:
        raise Refused("no_secret")
    stamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not _TIMESTAMP.fullmatch(stamp):
        raise Refused("no_timestamp")
    if abs(timezone.now().timestamp() - int(stamp)) > MAX_SKEW_SECONDS:
        raise Refused("stale_timestamp")
    expected = signature(source.webhook_secret, stamp, request.body)
    sent = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Refused("bad_signature")
    return source


def _refuse(request: HttpRequest, source_id: int, reason: str) -> JsonResponse:
    """401, with one security line saying which source, why and from where;
    never the secret, the signature or the body."""
    remote = client_ip(request)
    security.warning(
        "webhook_refused source=%s reason=%s remote=%s",
        source_id,
        reason,
        remote,
        extra={
            "event": "webhook_refused",
            "source_id": source_id,
            "reason": reason,
            "remote_addr": remote,
        },
    )
    return JsonResponse(
        error_body(401, "authentication_failed", REFUSALS[reason]), status=401
    )


@csrf_exempt
@require_POST
def records_hook(request: HttpRequest, source_id: int) -> JsonResponse:
    try:
        source = _verified_source(request, source_id)
    except Refused as exc:
        return _refuse(request, source_id, exc.reason)
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError):
        return JsonResponse(
            error_body(400, "parse_error", "The body is not valid JSON."), status=400
        )
    batch = RecordsBatchSerializer(data=data)
    try:
        batch.is_valid(raise_exception=True)
    except exceptions.ValidationError as exc:
        status, body = validation_error_body(exc)
        return JsonResponse(body, status=status)
    try:
        report = records_upsert(
            source=source,
            rows=batch.validated_data["records"],
            user=None,
            reason=batch.validated_data["reason"],
            enforce_lock=True,
        )
    except RecordsInvalid as exc:
        return JsonResponse(records_invalid_body(exc), status=422)
    return JsonResponse(UpsertReportSerializer(report).data)


app_name = "hooks"
urlpatterns = [
    path("records/<int:source_id>/", records_hook, name="records"),
]
