"""A report figure's drill-down: the inbox, scoped to exactly the tickets the figure counted.

Every count on the reports page links to the inbox with a ``report`` parameter: the report's own parameters
plus the column, the row's period and its group, signed, so that a link names a figure the report showed and
a changed or cut one is refused with a message rather than read as something else. The inbox hands the value
to ``inbox_scope`` (registered in ReportsConfig.ready, see tickets.scopes), which validates the parameters
again for the member opening the link (another company's link, or a department they no longer belong to, is
not found) and answers with the figure's tickets as a subquery over the very facts the figure was summed from
(reports.selectors.drilldown_sql). The list and the number therefore agree, with no limit on how many tickets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse

from departments.models import AgentProfile, Department
from helpdesk.errors import ApplicationError, NotFound
from helpdesk.principals import Actor
from reports import selectors
from reports.labels import COLUMN_LABELS, COUNT_NOUNS, ONE_PER_TICKET
from tickets.models import Channel, Tag, Ticket
from tickets.scopes import InboxScope
from tickets.selectors import ticket_visible_q

SCOPE_PARAM = "report"
FIGURE_PARAMS = ("column", "period", "group")
_SALT = "reports.drilldown"
_MAX_TOKEN = 4000


@dataclass(frozen=True)
class Figure:
    """One count of a report: a row's cell or, with no period and group, the column's total."""

    query: selectors.ReportQuery
    column: str
    period_start: datetime | None
    group_key: str | None


def figure_parse(*, actor: Actor, params: Mapping[str, Any]) -> Figure:
    """The report's parameters plus ``column``, ``period`` (the row's period_start) and ``group`` (the row's
    group id; 0 for none). A bad value raises ApplicationError naming it, a department or agent the actor may
    not see raises NotFound."""
    query = selectors.report_query_parse(actor=actor, params=params)
    column = str(params.get("column") or "")
    if column not in selectors.DRILLABLE:
        raise ApplicationError("Only counts can be drilled into.",
                               fields={"column": [f"{column!r} is not a count of the report."]})
    period_start = None
    if params.get("period"):
        try:
            period_start = datetime.fromisoformat(str(params["period"]))
        except ValueError as exc:
            raise ApplicationError("The period is not valid.", fields={
                "period": ["Give the period's start as an ISO 8601 date and time."]}) from exc
        if period_start.tzinfo is None:
            period_start = period_start.replace(tzinfo=query.zone)
    group = params.get("group")
    group_key = None if group in (None, "") else str(group)
    if group_key is not None and not _group_key_valid(query.group_by, group_key):
        raise ApplicationError("The group is not valid.",
                               fields={"group": [f"{group_key!r} is not a {query.group_by} of the report."]})
    return Figure(query=query, column=column, period_start=period_start, group_key=group_key)


def _group_key_valid(group_by: str, key: str) -> bool:
    if group_by == "channel":
        return key in Channel.values
    return key.isdigit() and int(key) < 2**63


def figure_url(*, tenant_id: int, params: Mapping[str, str]) -> str:
    """The inbox showing the tickets behind a figure: ``params`` are figure_parse's."""
    token = signing.dumps({"t": tenant_id, "p": dict(params)}, salt=_SALT, compress=True)
    # A signed value is URL-safe base64 and colons: nothing in it needs quoting.
    return f"{reverse('inbox')}?{SCOPE_PARAM}={token}"


def _token_params(*, actor: Actor, value: str) -> dict[str, str]:
    data = None
    if len(value) <= _MAX_TOKEN:
        try:
            data = signing.loads(value, salt=_SALT)
        except signing.BadSignature:
            data = None
    if not isinstance(data, dict) or not isinstance(data.get("p"), dict):
        raise ApplicationError("This report link is not valid: it was changed or cut short. "
                               "Open the figure from the report again.")
    if data.get("t") != actor.tenant.pk:
        raise NotFound("No such report figure.")
    return data["p"]


def inbox_scope(*, actor: Actor, value: str) -> InboxScope:
    """The inbox scope of a drill-down link (registered under SCOPE_PARAM)."""
    params = _token_params(actor=actor, value=value)
    try:
        figure = figure_parse(actor=actor, params=params)
    except NotFound:
        raise
    except ApplicationError as exc:
        # Named apart from the inbox's own fields: the report's "department" is not the inbox filter's.
        details = [f"{name}: {message}" for name, messages in exc.fields.items() for message in messages]
        raise type(exc)(f"This report figure cannot be shown. {exc.message}",
                        fields={SCOPE_PARAM: details}) from exc
    sql, sql_params = selectors.drilldown_sql(query=figure.query, column=figure.column,
                                              period_start=figure.period_start, group_key=figure.group_key)
    counted, ticket_count = selectors.drilldown_totals(sql=sql, params=sql_params)
    tickets = Q(pk__in=RawSQL(f"SELECT d.ticket_id FROM ({sql}) d", sql_params))
    summary = _summary(figure.column, counted, ticket_count)
    if not actor.is_admin:
        # The figure counts what happened in the agent's departments; a ticket moved out of them since is
        # counted but no longer theirs to open.
        visible = Ticket.objects.filter(ticket_visible_q(actor=actor)).filter(tickets).count()
        if visible < ticket_count:
            summary += (f" You can see {visible} of these tickets; the others have moved to departments "
                        f"outside yours.")
    back = {name: value for name, value in params.items() if name not in FIGURE_PARAMS}
    return InboxScope(
        tickets=tickets, title=_title(figure), summary=summary, ticket_count=ticket_count,
        back_url=f"{reverse('report')}?{urlencode(back)}", back_label="Back to the report",
    )


def _summary(column: str, counted: int, tickets: int) -> str:
    one, many = COUNT_NOUNS[column]
    items = f"{counted} {one if counted == 1 else many}, in {tickets} ticket{'' if tickets == 1 else 's'}"
    if column in ONE_PER_TICKET:
        return f"{items} (one per ticket)."
    return f"{items} (several {many} can belong to one ticket, which is listed once)."


def _title(figure: Figure) -> str:
    query = figure.query
    group = f"every {query.group_by}" if figure.group_key is None else _group_label(query, figure.group_key)
    return f"{COLUMN_LABELS[figure.column]} · {_period_label(figure)} · {group}"


def _period_label(figure: Figure) -> str:
    query = figure.query
    if figure.period_start is None or query.interval == "range":
        if query.date_from == query.date_to:
            return query.date_from.isoformat()
        return f"{query.date_from.isoformat()} to {query.date_to.isoformat()}"
    day = figure.period_start.astimezone(query.zone).date()
    if query.interval == "week":
        return f"week of {day.isoformat()}"
    if query.interval == "month":
        return day.strftime("%B %Y")
    if query.interval == "year":
        return str(day.year)
    return day.isoformat()


def _group_label(query: selectors.ReportQuery, key: str) -> str:
    if query.group_by == "channel":
        return Channel(key).label
    if key == "0":
        return selectors.NO_GROUP_LABELS[query.group_by]
    model, field = {"department": (Department, "name"), "agent": (AgentProfile, "display_name"),
                    "tag": (Tag, "name")}[query.group_by]
    name = model.objects.filter(pk=int(key)).values_list(field, flat=True).first()
    return name or f"{query.group_by.capitalize()} #{key}"
