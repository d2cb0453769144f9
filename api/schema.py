"""OpenAPI pieces shared by every resource: the error format, the error
responses, and the description of the token authentication."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .idempotency import IDEMPOTENCY_KEY_PARAMETER

# Characters a single-line text refuses, and those a multi-line one refuses
# (the same less tab, line feed and carriage return): agreements.validators.
_SINGLE_LINE = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
# The most rows one ``.../bulk/`` request may carry.
MAX_BULK_ROWS = 500

# DRF's and Django's text fields refuse NUL whatever else they take.
NUL = r"\x00"
_MULTI_LINE = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"


def text_pattern(*, refused: str | None, not_blank: bool) -> str | None:
    """The pattern of a text field: no ``refused`` characters anywhere, and
    (``not_blank``) at least one character that is not a space, since the
    server trims the text and refuses it blank."""
    if refused and not_blank:
        return rf"^[^{refused}]*[^{refused}\s][^{refused}]*$"
    if refused:
        return rf"^[^{refused}]*$"
    if not_blank:
        return r"\S"
    return None


def decimal_pattern(field: serializers.DecimalField) -> str:
    """A decimal as the server reads it: at least one digit, no more whole
    digits or places than it keeps, and no sign when it must not be
    negative."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    whole = field.max_whole_digits
    places = field.decimal_places
    digits = r"\d+" if whole is None else rf"\d{{1,{whole}}}"
    if not places:
        return rf"^{sign}{digits}$"
    return rf"^{sign}(?:{digits}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"


class AutoSchema(openapi.AutoSchema):
    """Documents ``Idempotency-Key`` on every handler decorated with
    ``api.idempotency.idempotent``, and, in request bodies, what the fields'
    validators enforce and JSON Schema can say: patterns for text, decimals
    and the days the portal keeps."""

    _direction = "request"

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # Remembered for ``_insert_field_validators``, which is not told.
        outer, self._direction = self._direction, direction
        try:
            return super()._map_serializer_field(field, direction, bypass_extensions)
        finally:
            self._direction = outer

    def _insert_field_validators(self, field, schema) -> None:
        super()._insert_field_validators(field, schema)
        # What the server takes, said of requests only: an answer may quote
        # what it refused (an error message echoing a bad month).
        if not field.read_only and self._direction == "request":
            _constrain(field, schema)

    def get_override_parameters(self) -> list[OpenApiParameter]:
        parameters = list(super().get_override_parameters())
        name = getattr(self.view, "action", None) or self.method.lower()
        if getattr(getattr(self.view, name, None), "idempotent", False):
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        return parameters


def _constrain(field: serializers.Field, schema: dict[str, Any]) -> None:
    from agreements import periods
    from agreements.validators import multi_line, single_line

    validators = getattr(field, "validators", [])
    if isinstance(field, serializers.ListSerializer):
        # A nested list's bounds (e.g. an agreement's objectives).
        if field.max_length is not None:
            schema["maxItems"] = field.max_length
        if field.min_length is not None:
            schema["minItems"] = field.min_length
    elif isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
        schema["pattern"] = decimal_pattern(field)
    elif isinstance(field, serializers.DateField) and periods.check_day in validators:
        schema["pattern"] = periods.DAY_PATTERN
    elif (
        isinstance(field, serializers.CharField)
        and "pattern" not in schema
        and "enum" not in schema
    ):
        refused = (
            _SINGLE_LINE
            if single_line in validators
            else _MULTI_LINE
            if multi_line in validators
            else NUL
        )
        not_blank = not field.allow_blank and field.trim_whitespace
        pattern = text_pattern(refused=refused, not_blank=not_blank)
        if pattern:
            schema["pattern"] = pattern


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        min_value=1, help_text="The record's place in the batch, from 1."
    )
    field = serializers.CharField(
        help_text="The field at fault; row for the record as a whole."
    )
    message = serializers.CharField()


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(
        help_text="Stable and machine-readable: invalid, not_authenticated, "
        "authentication_failed, permission_denied, not_found, invalid_state, "
        "stale, locked, not_new, merged, idempotency_key_reused, throttled, …"
    )
    message = serializers.CharField(help_text="What went wrong, for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per field at fault; nested fields as dotted paths, "
        "e.g. objectives.0.target.",
    )
    errors = RowErrorSerializer(
        many=True,
        required=False,
        help_text="A refused batch of records: every problem, by row and field, "
        "in the order of the rows.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "The request does not match this schema (a missing or unknown field, a "
    "wrong type or format, a value past a documented bound): see message and "
    "fields. Nothing was written.",
    401: "No credentials, or a token that is unknown or revoked.",
    403: "Signed in, but without the right to do this.",
    404: "Not found, or not visible to you.",
    409: "The record's state does not allow this now (e.g. it is no longer a "
    "draft, its month is locked, or someone else saved it since you read it). "
    "Reload it.",
    422: "The request matches this schema, but the portal cannot do it: an id "
    "that does not exist, a date outside 2000–2100, two fields that contradict "
    "each other, a rule of the portal's (see message and fields); or an "
    "Idempotency-Key already used for a different request. Nothing was "
    "written.",
    429: "Too many requests: wait the number of seconds in Retry-After.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses={200: X, **error_responses(400, 401, ...)})``.
    401 and 429 can answer any endpoint: they are always included; an endpoint
    that can answer 400 can answer 422 too."""
    wanted = {401, 429, *codes}
    if 400 in wanted:
        wanted.add(422)
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in sorted(wanted)
    }


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from the API tokens page "
            "(/accounts/api-tokens/), sent as `Authorization: Bearer <token>`.",
        }


def bound_bulk_bodies(result: dict, generator, request, public) -> dict:
    """A drf-spectacular post-processing hook: every ``.../bulk/`` body is a
    list of 1 to ``MAX_BULK_ROWS`` rows, as the server enforces (the list
    serializer's bounds do not reach the schema by themselves)."""
    for path, operations in result.get("paths", {}).items():
        if not path.endswith("/bulk/"):
            continue
        body = operations.get("post", {}).get("requestBody", {})
        for media in body.get("content", {}).values():
            schema = media.get("schema", {})
            if schema.get("type") == "array":
                schema["minItems"] = 1
                schema["maxItems"] = MAX_BULK_ROWS
    return result
