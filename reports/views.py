"""The reports pages: a department report as a table and a chart, its CSV, and the customers' public rating
page. The tickets behind a figure are the inbox's (reports.drilldown)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from departments.selectors import department_ids_of_agent
from helpdesk.errors import ApplicationError, NotFound
from helpdesk.tenancy import tenant_context
from helpdesk.web import member_required
from reports import drilldown, ratings, selectors
from reports.export import ReportCsv, report_filename
from reports.labels import COLUMN_LABELS
from reports.models import RatingValue
from tickets.models import Channel
from tickets.selectors import assignee_options, department_choices

DEFAULT_COLUMNS = ("tickets_created", "tickets_resolved", "answers", "avg_first_response_s", "avg_response_s",
                   "chats", "missed_chats", "calls", "ratings_positive_pct")


def _choices(request: HttpRequest) -> dict:
    actor = request.actor
    departments = department_choices(actor=actor)
    if not actor.is_admin:
        departments = departments.filter(pk__in=department_ids_of_agent(agent=actor.agent) if actor.agent else [])
    return {
        "department_choices": list(departments.values_list("id", "name")),
        "agent_choices": assignee_options(actor=actor),
        "channel_choices": Channel.choices,
        "tag_choices": selectors.tag_names(),
        "interval_choices": [(i, i.capitalize()) for i in selectors.INTERVALS],
        "group_choices": [(g, g.capitalize()) for g in selectors.GROUPINGS],
        "column_choices": [(c, COLUMN_LABELS[c]) for c in selectors.COLUMNS],
        "ordering_choices": [("period_start", "Period"), ("group_label", "Group"),
                             *((f"-{c}", f"{COLUMN_LABELS[c]}, highest first") for c in selectors.COLUMNS),
                             *((c, f"{COLUMN_LABELS[c]}, lowest first") for c in selectors.COLUMNS)],
    }


def _params(request: HttpRequest):
    """The page's query string, with the page's own default columns when none are chosen."""
    params = request.GET.copy()
    if not params.getlist("columns"):
        params.setlist("columns", list(DEFAULT_COLUMNS))
    return params


@require_GET
@member_required
def report(request: HttpRequest) -> HttpResponse:
    params = _params(request)
    context = {**_choices(request), "params": params, "errors": {}, "rows": [], "query": None}
    try:
        query = selectors.report_query_parse(actor=request.actor, params=params)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ApplicationError as exc:
        return _report_error(request, context, exc)
    rows = selectors.report_rows(query=query)
    base = query.as_params()
    columns = list(query.columns)
    page_params = {**base, "columns": ",".join(columns)}
    tenant_id = request.actor.tenant.pk
    for row in rows:
        key = "" if row["group_id"] is None else str(row["group_id"])
        row["cells"] = [
            {"column": c, "value": row[c], "seconds": c in selectors.SECONDS_COLUMNS,
             "link": _drill_link(tenant_id, page_params, c, row["period_start"], key or "0")
             if c in selectors.DRILLABLE and row[c] else None}
            for c in columns
        ]
    export_params = urlencode(page_params)
    context.update(
        query=query, rows=rows, columns=[(c, COLUMN_LABELS[c]) for c in columns],
        chart_rows=[{k: r[k] for k in ("period_start", "group_label", *columns)} for r in rows],
        chart_columns=[{"key": c, "label": COLUMN_LABELS[c], "seconds": c in selectors.SECONDS_COLUMNS}
                       for c in columns],
        export_url=f"{reverse('report-export')}?{export_params}",
        api_url=f"{reverse('api-report-departments')}?{urlencode(base)}",
        chosen={"department": {str(d) for d in query.departments}, "agent": {str(a) for a in query.agents},
                "channel": set(query.channels), "tag": set(query.tags), "columns": set(columns)},
    )
    return render(request, "reports/report.html", context)


def _report_error(request: HttpRequest, context: dict, exc: ApplicationError) -> HttpResponse:
    context.update(errors=exc.fields, error_message=exc.message)
    return render(request, "reports/report.html", context, status=exc.status_code)


def _drill_link(tenant_id: int, page_params: dict, column: str, period_start: str, group_key: str) -> str:
    """The inbox, scoped to the tickets behind one cell; its banner links back to this very page."""
    params = {**page_params, "column": column, "period": period_start, "group": group_key}
    return drilldown.figure_url(tenant_id=tenant_id, params=params)


@require_GET
@member_required
def report_export(request: HttpRequest) -> HttpResponse:
    try:
        query = selectors.report_query_parse(actor=request.actor, params=_params(request))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ApplicationError as exc:
        return HttpResponse(f"{exc.message} {exc.fields}", status=400, content_type="text/plain")
    stream = ReportCsv(tenant=request.actor.tenant, query=query)
    content = stream if isinstance(request, ASGIRequest) else iter(stream)
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{report_filename(query)}"'
    return response


@require_GET
@member_required
def report_tickets(request: HttpRequest) -> HttpResponse:
    """Drill-down links from before figures opened the inbox (``/reports/tickets/?...``) keep working."""
    try:
        drilldown.figure_parse(actor=request.actor, params=request.GET)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ApplicationError as exc:
        context = {**_choices(request), "params": _params(request), "rows": [], "query": None}
        return _report_error(request, context, exc)
    params = {name: ",".join(values) for name, values in request.GET.lists() if any(values)}
    return redirect(drilldown.figure_url(tenant_id=request.actor.tenant.pk, params=params))


@require_http_methods(["GET", "POST"])
def rating(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page behind a rating link: no login, the token is the key."""
    try:
        target = ratings.rating_token_read(token=token)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    with tenant_context(target.tenant):
        try:
            ticket = ratings.rating_ticket_get(target=target)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        existing = ratings.rating_for_ticket(ticket=ticket)
        errors: dict[str, list[str]] = {}
        status = 200
        if request.method == "POST":
            try:
                ratings.rating_submit(target=target, value=request.POST.get("value", ""),
                                      comment=request.POST.get("comment", ""))
            except ApplicationError as exc:
                errors = exc.fields or {"value": [exc.message]}
                status = 400
            else:
                messages.success(request, "Thank you for your rating.")
                return redirect("rating", token=token)
        return render(request, "reports/rating.html", {
            "ticket": ticket, "rating": existing, "tenant_name": target.tenant.name, "errors": errors,
            "can_change": ratings.rating_can_change(existing), "values": RatingValue.choices,
            "resolved": ticket.status == "resolved",
        }, status=status)
