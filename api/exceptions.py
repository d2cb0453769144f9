"""One error format for every API error, and one rule for 400 against 422.

- **400**: the request does not match the schema: a missing or unknown
  field, a wrong type or format, a value past a documented bound or outside
  a documented list. The schema (``/api/schema/``) says what is valid.
- **422**: the request matches the schema, but the portal cannot do it: a
  team or objective that does not exist, a date outside 2000–2100, a month
  that has locked, two fields that contradict each other. No schema can say
  these; the message and ``fields`` say what to change.
- **409**: the record's state moved on (see ``CONFLICT_CODES``).


Every error response body is::

    {"error": {"status": 400, "code": "invalid",
               "message": "A sentence for a person.",
               "fields": {"title": ["This field is required."],
                          "objectives.0.target": ["The target must be above zero."]}}}

``fields`` is present only when particular fields are at fault; nested fields
are named by dotted paths. Django's ``ValidationError``, ``PermissionDenied``
and ``Http404`` from the services are mapped like DRF's own exceptions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("django.request")

# Codes of a service's ValidationError that mean "the record moved on since
# you read it", not "your input is wrong": answered 409, not 400. (not_new: a
# friction report the addressed team has taken up; merged: a pain point
# merged into another.)
CONFLICT_CODES = frozenset({"stale", "invalid_state", "locked", "not_new", "merged"})


class Conflict(exceptions.APIException):
    """The request is well formed but the record's state does not allow it now
    (an agreement that is no longer a draft, a draft someone else saved)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record changed: reload it and try again."
    default_code = "invalid_state"


class UnprocessableRequest(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class InvalidContent(exceptions.ValidationError):
    """Well formed by the schema, refused by the portal's rules: 422, with the
    fields at fault, in the same shape as a 400."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


# DRF's codes for what the schema itself describes (types, formats, required
# fields, lengths, bounds, choices): a request failing only these is a 400.
SCHEMA_CODES = frozenset(
    {
        "required",
        "null",
        "blank",
        "invalid",
        "incorrect_type",
        "not_a_list",
        "not_a_dict",
        "empty",
        "max_length",
        "min_length",
        "max_value",
        "min_value",
        "max_digits",
        "max_decimal_places",
        "max_whole_digits",
        "max_string_length",
        "invalid_choice",
        "parse_error",
        "date",
        "datetime",
        "make_aware",
        "overflow",
        # The portal's validators whose bounds the schema states as patterns
        # (api.schema): text without control characters, days and months
        # in 2000 … 2100.
        "control_characters",
        "null_characters_not_allowed",
        "date_out_of_range",
        "month_out_of_range",
    }
)


def _codes(detail: Any) -> set[str]:
    if isinstance(detail, Mapping):
        return {c for value in detail.values() for c in _codes(value)}
    if isinstance(detail, list):
        return {c for value in detail for c in _codes(value)}
    return {getattr(detail, "code", None) or "invalid"}


def classify(exc: exceptions.ValidationError) -> exceptions.ValidationError:
    """A serializer's refusal: 400 when every error is one the schema
    describes, 422 when one is not (an id that does not exist, a rule of the
    portal's)."""
    if type(exc) is exceptions.ValidationError and not _codes(exc.detail) <= (
        SCHEMA_CODES
    ):
        return InvalidContent(exc.detail)
    return exc


def conflict_from(exc: DjangoValidationError) -> Conflict:
    """A service's refusal that is about the record's state, as a 409."""
    code = _first_code(exc)
    return Conflict(
        " ".join(exc.messages),
        code=code if code in CONFLICT_CODES else Conflict.default_code,
    )


def _first_code(exc: DjangoValidationError) -> str | None:
    errors = (
        [e for errs in exc.error_dict.values() for e in errs]
        if hasattr(exc, "error_dict")
        else exc.error_list
    )
    codes = [e.code for e in errors if e.code]
    return codes[0] if codes else None


def _from_django_validation_error(
    exc: DjangoValidationError,
) -> exceptions.APIException:
    code = _first_code(exc)
    if code in CONFLICT_CODES:
        return Conflict(" ".join(exc.messages), code=code)
    if hasattr(exc, "error_dict"):
        detail: dict[str, list[str]] = {}
        for field, errors in exc.message_dict.items():
            name = (
                api_settings.NON_FIELD_ERRORS_KEY
                if field == NON_FIELD_ERRORS
                else field
            )
            detail[name] = list(errors)
        return InvalidContent(detail)
    return InvalidContent({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"objectives.0.target": [messages]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list) and any(
        isinstance(v, Mapping | list) for v in detail
    ):
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    elif isinstance(detail, list):
        if detail:
            out[prefix] = [str(v) for v in detail]
    else:
        out[prefix] = [str(detail)]
    return out


def _validation_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    fields = _flatten(exc.detail)
    general = fields.pop(api_settings.NON_FIELD_ERRORS_KEY, [])
    general += fields.pop("", [])
    if general:
        message = " ".join(general)
    else:
        message = "Some fields are not valid: " + ", ".join(sorted(fields)) + "."
    body: dict[str, Any] = {
        "status": exc.status_code,
        "code": "invalid",
        "message": message,
    }
    if fields:
        body["fields"] = fields
    return body


def error_body(status_code: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"status": status_code, "code": code, "message": message}}


def validation_error_body(
    exc: exceptions.ValidationError,
) -> tuple[int, dict[str, Any]]:
    """A serializer's refusal outside DRF's views (e.g. a webhook): its status
    (400 or 422, as ``classify`` says) and its body, as the API answers it."""
    exc = classify(exc)
    return exc.status_code, {"error": _validation_body(exc)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, DjangoValidationError):
        # The services' and models' rules: the schema cannot tell them.
        exc = _from_django_validation_error(exc)
    elif isinstance(exc, exceptions.ValidationError):
        exc = classify(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)

    # DRF's handler sets WWW-Authenticate and Retry-After and rolls back an
    # atomic request; only the body is reshaped here.
    response = drf_exception_handler(exc, context)
    if response is None:
        return _server_error(exc, context)
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        body = _validation_body(exc)
    else:
        codes = exc.get_codes()
        body = {
            "status": exc.status_code,
            "code": codes if isinstance(codes, str) else exc.default_code,
            "message": str(exc.detail),
        }
    response.data = {"error": body}
    return response


def _server_error(exc: Exception, context: dict[str, Any]) -> Response:
    """An unexpected failure, in the same format. Logged as Django logs a 500
    (so admins are told), and signalled, so that the test client re-raises it."""
    request = context["request"]
    django_request = getattr(request, "_request", request)
    logger.error(
        "Internal Server Error: %s",
        django_request.path,
        exc_info=exc,
        extra={"status_code": 500, "request": django_request},
    )
    got_request_exception.send(sender=None, request=django_request)
    return Response(
        error_body(
            500,
            "server_error",
            "Something went wrong on our side. It has been logged; try again later.",
        ),
        status=500,
    )
