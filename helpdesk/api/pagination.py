"""Keyset (cursor) pagination for API lists, on top of helpdesk.pagination."""

from __future__ import annotations

from collections import OrderedDict

from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from helpdesk.errors import ApplicationError
from helpdesk.pagination import keyset_paginate


class IdCursorPagination(BasePagination):
    """Pages in a fixed keyset order. Views may offer other orders through ``keyset_orderings``:
    a mapping of the ``ordering`` parameter's values to field tuples ending with ``id``."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = 200
    default_ordering = ("-id",)

    def _orderings(self, view) -> dict[str, tuple[str, ...]]:
        return getattr(view, "keyset_orderings", None) or {"-id": self.default_ordering}

    def _ordering(self, request, view) -> tuple[str, ...]:
        orderings = self._orderings(view)
        requested = request.query_params.get("ordering")
        if requested is None:
            return next(iter(orderings.values()))
        if requested not in orderings:
            raise ApplicationError(
                "Invalid ordering.", fields={"ordering": [f"Choose one of {', '.join(orderings)}."]}
            )
        return orderings[requested]

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ApplicationError(
                "Invalid page size.", fields={"page_size": [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page = keyset_paginate(
            queryset, ordering=self._ordering(request, view),
            cursor=request.query_params.get(self.cursor_query_param), page_size=self._page_size(request),
        )
        self.page = page
        return page.items

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def get_paginated_response(self, data) -> Response:
        return Response(
            OrderedDict(
                [("next", self._link(self.page.next_cursor)), ("previous", self._link(self.page.previous_cursor)),
                 ("results", data)]
            )
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "The pagination cursor value.", "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Results per page (1-{self.max_page_size}).", "schema": {"type": "integer"}},
            {"name": "ordering", "required": False, "in": "query", "description": "Sort order.",
             "schema": {"type": "string", "enum": list(self._orderings(view))}},
        ]


