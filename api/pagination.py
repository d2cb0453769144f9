from __future__ import annotations

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=2&page_size=50``. Lists are ordered with the primary key as the
    last tie-break (``api.filters.StableOrderingFilter``), so that no row
    appears on two pages or on none."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
