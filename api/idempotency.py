"""``Idempotency-Key`` for write POSTs: a retried request creates one record.

Decorate a view method that writes with ``@idempotent`` (under ``@action`` for
an extra action); it also documents the header in the schema. With the
header, the first successful response is stored under (person, key); the same
key with the same request replays it, with the header ``Idempotent-Replayed:
true``; the same key with another request is refused with 422. A request
refused with an error stores nothing (it wrote nothing), so the client may fix
it and retry with the same key. Keys are kept for ``KEY_LIFETIME``.

Two requests with the same key at the same moment run one after the other:
the key's row is inserted before the work, in the same transaction, and the
unique index makes the second wait for the first and then replay it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from .exceptions import UnprocessableRequest
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255

# Printable ASCII, no spaces: what ``_valid_key`` accepts, as the schema says.
KEY_PATTERN = r"^[!-~]{1,255}$"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": KEY_PATTERN,
    },
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string of 1 to 255 printable ASCII characters without "
        "spaces, e.g. a UUID. "
        "Retrying with the same key and body returns the first response "
        "instead of writing again; the same key with another body is refused "
        "with 422. Kept for 24 hours."
    ),
)


class IdempotencyKeyReused(UnprocessableRequest):
    default_code = "idempotency_key_reused"


def _valid_key(key: str) -> str:
    if not re.fullmatch(KEY_PATTERN, key or ""):
        raise exceptions.ValidationError(
            {
                HEADER: [
                    f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters without "
                    "spaces, e.g. a UUID."
                ]
            }
        )
    return key


def fingerprint(request: Request) -> str:
    """The request as far as idempotency cares: method, path and parsed body,
    so that the same JSON with other spacing or key order is the same request."""
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict from a form-encoded body
        data = dict(data.lists())
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": data},
        sort_keys=True,
        default=str,
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyKey, digest: str) -> Response:
    if record.fingerprint != digest:
        raise IdempotencyKeyReused(
            f"This Idempotency-Key was already used for another request "
            f"({record.method} {record.path} with a different body). Use a new "
            "key for a new request."
        )
    return Response(
        record.response_body,
        status=record.response_status,
        headers={REPLAYED_HEADER: "true"},
    )


def run_idempotently(
    request: Request, key: str, run: Callable[[], Response]
) -> Response:
    key = _valid_key(key)
    user = request.user
    digest = fingerprint(request)
    with transaction.atomic():
        IdempotencyKey.objects.filter(
            user=user, key=key, created_at__lt=timezone.now() - KEY_LIFETIME
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    method=request.method,
                    path=request.path,
                    fingerprint=digest,
                    response_status=0,
                )
        except IntegrityError:
            # Stored by an earlier request (or one that just committed).
            return _replay(IdempotencyKey.objects.get(user=user, key=key), digest)
        response = run()
        if not 200 <= response.status_code < 300:
            record.delete()
            return response
        record.response_status = response.status_code
        # Stored as the client received it: dates and decimals as strings.
        record.response_body = json.loads(
            JSONRenderer().render(response.data) or b"null"
        )
        record.save(update_fields=["response_status", "response_body"])
        return response


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Honour ``Idempotency-Key`` on a view method. Use it under ``@action``."""

    @functools.wraps(handler)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(self, request, *args, **kwargs)
        return run_idempotently(
            request, key, lambda: handler(self, request, *args, **kwargs)
        )

    # Read by api.schema.AutoSchema, which documents the header. (Not an
    # @extend_schema here: @action replaces the function's schema settings.)
    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper
