"""Helpers for tests of the API: every route under /api/v1/, read from the
URL resolver, so that tests built on it cover a new endpoint by themselves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

IGNORED_METHODS = {"head", "options", "trace"}


@dataclass(frozen=True)
class Route:
    name: str  # "api:v1:agreement-sign"
    method: str  # "POST"
    pattern: str  # for messages: the route as the resolver spells it
    kwargs: tuple[str, ...]  # path parameters, e.g. ("pk",)

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.method)

    def __str__(self) -> str:
        return f"{self.method} {self.name}"


def _methods(callback) -> list[str]:
    actions = getattr(callback, "actions", None)  # a DRF viewset's routes
    if actions is not None:
        names = actions.keys()
    else:
        view_class = getattr(callback, "view_class", None) or getattr(
            callback, "cls", None
        )
        if view_class is None:  # a plain function: it may answer anything
            return ["ANY"]
        names = [m for m in view_class.http_method_names if hasattr(view_class, m)]
    return sorted(m.upper() for m in names if m not in IGNORED_METHODS)


def _walk(
    patterns: list, prefix: str, namespaces: tuple[str, ...]
) -> Iterator[tuple[str, str, URLPattern]]:
    for entry in patterns:
        route = prefix + str(entry.pattern).lstrip("^").rstrip("$").replace("\\", "")
        if isinstance(entry, URLResolver):
            extra = (entry.namespace,) if entry.namespace else ()
            yield from _walk(entry.url_patterns, route, namespaces + extra)
        elif entry.name:
            yield route, ":".join((*namespaces, entry.name)), entry


def api_routes(prefix: str = "api/v1/") -> list[Route]:
    """Each (route, method) under ``prefix``, from the project's URL resolver."""
    routes = []
    for route, name, entry in _walk(get_resolver().url_patterns, "", ()):
        if not route.startswith(prefix):
            continue
        kwargs = tuple(entry.pattern.regex.groupindex)
        for method in _methods(entry.callback):
            routes.append(Route(name=name, method=method, pattern=route, kwargs=kwargs))
    return sorted(routes, key=lambda r: (r.name, r.method))


# --- What the schema says of a request ----------------------------------------


def _document() -> dict:
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


_DOCUMENT: dict | None = None


def matches_schema(method: str, path: str, body, headers: dict[str, str]) -> bool:
    """Whether a request is valid by the OpenAPI schema: its body (already
    parsed, or ``None``) and its documented headers. The API answers 400
    exactly when it is not, and 422 when the portal refuses a valid one."""
    import re

    import jsonschema

    global _DOCUMENT
    if _DOCUMENT is None:
        _DOCUMENT = _document()
    for template, operations in _DOCUMENT["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            operation = operations[method.lower()]
            break
    else:
        raise LookupError(f"{method} {path} is not in the schema")

    def valid(schema: dict, value) -> bool:
        root = {**schema, "components": _DOCUMENT.get("components", {})}
        validator = jsonschema.Draft202012Validator(
            root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        return validator.is_valid(value)

    for parameter in operation.get("parameters", []):
        if parameter["in"] != "header":
            continue
        value = headers.get(parameter["name"])
        if value is None:
            if parameter.get("required"):
                return False
            continue
        if not valid(parameter.get("schema", {}), value):
            return False
    content = operation.get("requestBody", {}).get("content", {})
    if not content:
        # An operation that documents no body takes none.
        return body is None
    schema = content.get("application/json", {}).get("schema", {})
    if body is None:
        return not operation["requestBody"].get("required", False)
    return valid(schema, body)
