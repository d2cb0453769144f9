from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=2&page_size=50``. Lists are ordered with the primary key as the
    last tie-break (``api.filters.StableOrderingFilter``), so that no row
    appears on two pages or on none. A page size that is not a whole number
    from 1 to 100 is a 400, as the schema says, not quietly the default."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        """``?page=`` must name a page: a whole number from 1 (or ``last``);
        an empty or malformed one is a 400, not quietly the first page."""
        text = request.query_params.get(self.page_query_param)
        if text is None or text in self.last_page_strings:
            return super().get_page_number(request, paginator)
        if not text.isdigit() or int(text) < 1:
            raise exceptions.ValidationError(
                {self.page_query_param: ["Give a whole number from 1."]}
            )
        return int(text)

    def get_page_size(self, request: Request) -> int:
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        if not text.isdigit() or not 1 <= int(text) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        f"Give a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return int(text)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters
