from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, except that a filter given with no value
    (``?status=``) or more than once (``?status=a&status=b``, of which
    django-filter would silently take the last) is a 400: the schema offers
    one value, so a client sending none or several has a bug worth hearing
    about."""

    def get_filterset(self, request: Request, queryset: QuerySet, view: Any):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            problems: dict[str, list[str]] = {}
            for name in filterset.filters:
                values = request.query_params.getlist(name)
                if name not in request.query_params:
                    continue
                if not any(v.strip() for v in values):
                    problems[name] = ["Give a value, or leave the parameter out."]
                elif len(values) > 1:
                    problems[name] = ["Give one value: the parameter came twice."]
            if problems:
                raise exceptions.ValidationError(problems)
        return filterset


class StableOrderingFilter(OrderingFilter):
    """``?ordering=-effective_from,title``, always ending with the primary key.

    A view names what may be sorted by as ``ordering_fields = {"provider":
    "provider__name", ...}``: the API's names stay short and the model's paths
    stay private. Without the tie-break, rows that sort equal could move
    between pages from one request to the next.
    """

    def get_valid_fields(self, queryset: QuerySet, view: Any, context=None) -> list:
        return [(name, name) for name in getattr(view, "ordering_fields", {})]

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> list:
        aliases: dict[str, str] = getattr(view, "ordering_fields", {})
        params = request.query_params.get(self.ordering_param)
        ordering: list[str] = []
        if params is not None:
            terms = [t.strip() for t in params.split(",")]
            unknown = [t for t in terms if t.lstrip("-") not in aliases]
            if unknown or not terms:
                # The schema lists the names: anything else is the client's
                # mistake, said so, not a silent default order.
                known = ", ".join(sorted(aliases)) or "nothing"
                raise exceptions.ValidationError(
                    {
                        self.ordering_param: [
                            f"Unknown sort field {', '.join(map(repr, unknown))}: "
                            f"sort by {known}, with a leading “-” to descend."
                        ]
                    }
                )
            for term in terms:
                descending = term.startswith("-")
                path = aliases[term.lstrip("-")]
                ordering.append(f"-{path}" if descending else path)
        if not ordering:
            ordering = list(self.get_default_ordering(view) or [])
        if not any(t.lstrip("-") in {"pk", "id"} for t in ordering):
            ordering.append("pk")
        return ordering

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        names = list(getattr(view, "ordering_fields", {}))
        if not names:
            return []
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": (
                    "Sort by one or more of these, separated by commas; a leading "
                    "“-” sorts descending. Ties are broken by id."
                ),
                "schema": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "string",
                        "enum": [v for n in names for v in (n, f"-{n}")],
                    },
                },
                "explode": False,
                "style": "form",
            }
        ]
