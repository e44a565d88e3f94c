"""The API's base view, how lists are paged and documented, and the tenant endpoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import django_filters
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.pagination import IdCursorPagination
from helpdesk.filters import MultiValueFilter
from helpdesk.principals import Actor


class BearerKeyScheme(OpenApiAuthenticationExtension):
    """Documents the Bearer API key in the schema (Swagger UI's "Authorize" button uses it)."""

    target_class = "helpdesk.api.authentication.TenantPrincipalAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of the tenant, sent as `Authorization: Bearer <key>`. An admin key acts "
            "for the whole tenant; an agent key sees and does what its agent may.",
        }


class FilterSetParameters:
    """Lists a view's ``filterset_class`` as query parameters in the schema.

    The filtering itself happens in the view's selector, so that pages and the API select alike; this
    backend leaves the queryset untouched.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        return queryset

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is None:
            return []
        parameters = []
        for name, filter_ in filterset_class.base_filters.items():
            schema: dict[str, Any] = {"type": "string"}
            if isinstance(filter_, django_filters.IsoDateTimeFilter):
                schema["format"] = "date-time"
            description = str(filter_.extra.get("help_text") or "")
            if isinstance(filter_, MultiValueFilter):
                description += " (comma-separated, or the parameter repeated)"
            parameters.append(
                {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
            )
        return parameters


# Comments rather than docstrings on the base views: the schema would show a base's docstring as the
# description of every operation without its own.


class ApiView(APIView):
    # Base of the API's views: parse, call a selector or service with the acting member or key, render.

    # JSON only, unless a view takes files: nested fields (a ticket's contact) have no form encoding.
    parser_classes: ClassVar[Sequence[type[BaseParser]]] = [JSONParser]

    @property
    def actor(self) -> Actor:
        return self.request.user


class ListApiView(ApiView):
    # A view with a keyset-paged list. `keyset_orderings` maps the `ordering` parameter's values to the fields
    # each order sorts by (ending with `id`); the first is the default.

    pagination_class = IdCursorPagination
    filter_backends: ClassVar[Sequence[type]] = [FilterSetParameters]
    filterset_class: ClassVar[type[django_filters.FilterSet] | None] = None
    keyset_orderings: ClassVar[dict[str, tuple[str, ...]]] = {"id": ("id",)}

    def paginated(self, queryset: QuerySet, serializer_class: type[serializers.BaseSerializer]) -> Response:
        return self.paginated_rows(
            queryset, lambda page: serializer_class(page, many=True, context={"request": self.request}).data,
        )

    def paginated_rows(self, queryset: QuerySet, represent: Callable[[list[Any]], list[Any]]) -> Response:
        # For lists that read plain rows (queryset.values()) and write them with a function of the page.
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(represent(page))


class TenantOutputSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    time_zone = serializers.CharField()


class TenantApi(ApiView):
    @extend_schema(tags=["tenant"], responses=TenantOutputSerializer, summary="The key's tenant")
    def get(self, request: Request) -> Response:
        return Response(TenantOutputSerializer(self.actor.tenant).data)
