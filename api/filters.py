from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


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
        if params:
            terms = [t.strip() for t in params.split(",") if t.strip()]
            for term in self.remove_invalid_fields(queryset, terms, view, request):
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
                    "items": {
                        "type": "string",
                        "enum": [v for n in names for v in (n, f"-{n}")],
                    },
                },
                "explode": False,
                "style": "form",
            }
        ]
