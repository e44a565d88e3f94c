"""Department reports over the API: JSON, or the same rows streamed as CSV."""

from __future__ import annotations

import json
from dataclasses import replace

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.views import ApiView
from reports import selectors
from reports.api.serializers import ReportSerializer
from reports.api.throttling import ReportKeyThrottle
from reports.export import ReportCsv, report_filename
from tickets.models import Channel


class CsvRenderer(BaseRenderer):
    # Only lets content negotiation pick CSV (Accept: text/csv or format=csv); the view streams it itself.
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return b"" if data is None else str(data).encode()


def _csv_response(request: Request, tenant, query: selectors.ReportQuery) -> StreamingHttpResponse:
    stream = ReportCsv(tenant=tenant, query=query)
    # An async iterator under ASGI, a plain one under WSGI: each server consumes its own kind lazily.
    content = stream if isinstance(request._request, ASGIRequest) else iter(stream)
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{report_filename(query)}"'
    return response


PARAMETERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="First day, in the report's time zone "
                     "(default: 29 days before date_to)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last day, included (default: today)."),
    OpenApiParameter("interval", str, enum=list(selectors.INTERVALS),
                     description="One row per day, ISO week (from Monday), month or year; `range`: one row for "
                     "the whole range. Default day."),
    OpenApiParameter("group_by", str, enum=list(selectors.GROUPINGS), description="Default department."),
    OpenApiParameter("department", str, description="Department ids, or `none` (comma-separated or repeated)."),
    OpenApiParameter("agent", str, description="Agent ids, or `none` for unassigned work."),
    OpenApiParameter("channel", str, description=f"Channels: {', '.join(Channel.values)}."),
    OpenApiParameter("tag", str, description="Tag names: only tickets with any of them."),
    OpenApiParameter("tz", str, description="IANA time zone of buckets and dates (default: the tenant's)."),
    OpenApiParameter("ordering", str, description="A column, `period_start` or `group_label`; prefix `-` for "
                     "descending. Default period_start."),
    OpenApiParameter("format", str, enum=["json", "csv"], description="`csv` streams the same rows as CSV "
                     "(as does `Accept: text/csv`)."),
]


class DepartmentReportApi(ApiView):
    renderer_classes = [JSONRenderer, CsvRenderer]
    throttle_classes = [ReportKeyThrottle]

    def finalize_response(self, request: Request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            # Errors keep the API's one JSON shape, whatever format the report was asked in.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        tags=["reports"], summary="Department report", parameters=PARAMETERS,
        description="Figures per bucket and group; each column is defined in docs/reports.md. Agents see "
        "only their departments' figures. Rate limited per key: 429 with Retry-After.",
        responses={200: OpenApiResponse(ReportSerializer, description="JSON; or text/csv with the same rows "
                                        "(header row, columns in the JSON order)."),
                   400: OpenApiResponse(description="Invalid parameters, with the reason per field."),
                   404: OpenApiResponse(description="A department or agent that does not exist or is not "
                                        "visible."),
                   429: OpenApiResponse(description="Too many requests; see Retry-After.")},
    )
    def get(self, request: Request) -> HttpResponse | StreamingHttpResponse:
        # The API's rows always carry every column: a stable contract for integrators.
        query = replace(selectors.report_query_parse(actor=self.actor, params=request.query_params),
                        columns=selectors.COLUMNS)
        if request.accepted_renderer.format == "csv":
            return _csv_response(request, self.actor.tenant, query)
        head = json.dumps({
            "date_from": query.date_from.isoformat(), "date_to": query.date_to.isoformat(),
            "interval": query.interval, "group_by": query.group_by, "time_zone": query.time_zone,
            "columns": list(selectors.COLUMNS),
        })
        # The rows arrive as JSON text written by PostgreSQL; wrapping them here avoids decoding and encoding
        # tens of thousands of values in Python.
        body = f'{head[:-1]}, "rows": {selectors.report_json(query=query)}}}'
        return HttpResponse(body, content_type="application/json")
