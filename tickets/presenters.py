"""The inbox's rows, written in Python.

The inbox is the page agents load most, fifty rows at a time. Its rows are read as plain values
(selectors.ticket_rows) and each is written here in one step: through the template engine, resolving a dozen
variables, filters, date formats and ``{% url %}`` tags per row was most of the page's time. The markup is the
one the inbox template had; tests/web/test_inbox.py checks what a row shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from tickets.models import PRIORITY_NAMES, Channel, Priority, Status
from tickets.templatetags.ticket_ui import ago

_CHANNEL_LABELS = dict(Channel.choices)
_STATUS_LABELS = dict(Status.choices)
_PRIORITY_LABELS = dict(Priority.choices)
# The interface is in English (USE_I18N is off); "j M Y" as Django's date format writes it.
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CODE = "XXXX-XXXX"
_UNASSIGNED = '<span class="muted">Unassigned</span>'


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _day_month(local: datetime) -> str:
    return f"{local.day} {_MONTHS[local.month]}"


def _clock(local: datetime) -> str:
    return f"{local.hour:02d}:{local.minute:02d}"


def _time(moment: datetime) -> str:
    local = timezone.localtime(moment)
    title = f"{_day_month(local)} {local.year}, {_clock(local)}"
    return f'<time datetime="{local.isoformat()}" title="{title}">{_e(ago(moment))}</time>'


def _sla_due(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return (f'<time class="sla-due" datetime="{local.isoformat()}" title="Earliest SLA due time">'
            f"SLA due {_day_month(local)}, {_clock(local)}</time>")


def inbox_rows(rows: Sequence[Mapping[str, Any]], tags: Mapping[int, list[str]], *, by_activity: bool,
               take_csrf_token: str | None = None) -> list[SafeString]:
    """Rows of selectors.TICKET_ROW_FIELDS as the inbox table's ``<tr>`` elements.

    ``by_activity``: the time column shows the last activity instead of the creation time.
    ``take_csrf_token``: the To solve view, where the subject is a button that takes the ticket (a form posting
    with this token) rather than a link.
    """
    # Reversed once per page rather than once per row; codes are URL-safe ([A-Z0-9-]).
    detail_url = reverse("ticket-detail", kwargs={"code": _CODE})
    take_url = reverse("ticket-take", kwargs={"code": _CODE})
    when_label = "Last activity" if by_activity else "Created"
    html = []
    for row in rows:
        code = _e(row["code"])
        subject = _e(row["subject"])
        if take_csrf_token is None:
            opener = f'<a class="tickets__subject" href="{detail_url.replace(_CODE, code)}">{subject}</a>'
        else:
            opener = (
                f'<form method="post" action="{take_url.replace(_CODE, code)}" class="take-form">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(take_csrf_token)}">'
                f'<button type="submit" class="tickets__subject linklike" title="Open and take this ticket">'
                f"{subject}</button></form>"
            )
        contact = (row["contact__name"] or row["contact__email"] or row["contact__phone"]
                   or row["contact__visitor_id"])
        tag_spans = "".join(f'<span class="tag">{_e(tag)}</span>' for tag in tags.get(row["id"], ()))
        status, priority = row["status"], row["priority"]
        assignee = row["assignee__display_name"]
        html.append(mark_safe(
            f'<tr class="tickets__row" data-ticket="{code}">'
            f'<td class="tickets__main"><span class="code">{code}</span> {opener} '
            f'<span class="tickets__meta">{_e(contact)} · {_e(_CHANNEL_LABELS.get(row["channel"], row["channel"]))}'
            f" {tag_spans} {_sla_due(row['sla_due_at'])}</span></td>"
            f'<td data-label="Status"><span class="badge badge--{_e(status)}">'
            f"{_e(_STATUS_LABELS.get(status, status))}</span></td>"
            f'<td data-label="Priority"><span class="priority priority--{PRIORITY_NAMES[priority]}">'
            f"{_e(_PRIORITY_LABELS[priority])}</span></td>"
            f'<td data-label="Department">{_e(row["department__name"] or "—")}</td>'
            f'<td data-label="Assignee">'
            f"{_e(assignee) if assignee else _UNASSIGNED}</td>"
            f'<td data-label="{when_label}">{_time(row["updated_at"] if by_activity else row["created_at"])}</td>'
            f"</tr>"
        ))
    return html
