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
