"""What a row of the inbox shows, prepared in Python.

The inbox is the page agents load most. Its rows are read as plain values (selectors.ticket_rows) and every
label, link and date of a row is prepared here once, so the template only places strings: resolving a dozen
lookups, filters and ``{% url %}`` tags per row through the template engine was most of the page's time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import dateformat, timezone

from tickets.models import PRIORITY_NAMES, Channel, Priority, Status
from tickets.templatetags.ticket_ui import ago

_CHANNEL_LABELS = dict(Channel.choices)
_STATUS_LABELS = dict(Status.choices)
_PRIORITY_LABELS = dict(Priority.choices)
_CODE = "XXXX-XXXX"


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _moment(moment: datetime | None, label_format: str) -> dict[str, str] | None:
    if moment is None:
        return None
    local = _local(moment)
    return {"iso": dateformat.format(local, "c"), "label": dateformat.format(local, label_format),
            "title": dateformat.format(local, "j M Y, H:i"), "ago": ago(moment)}


def inbox_rows(rows: Sequence[Mapping[str, Any]], tags: Mapping[int, list[str]], *, by_activity: bool,
               ) -> list[dict[str, Any]]:
    """Rows of selectors.TICKET_ROW_FIELDS as the inbox table shows them. ``by_activity``: the time column
    shows the last activity instead of the creation time."""
    # Reversed once per page rather than once per row; codes are URL-safe ([A-Z0-9-]).
    detail_url = reverse("ticket-detail", kwargs={"code": _CODE})
    take_url = reverse("ticket-take", kwargs={"code": _CODE})
    shown = []
    for row in rows:
        code = row["code"]
        contact = (row["contact__name"] or row["contact__email"] or row["contact__phone"]
                   or row["contact__visitor_id"])
        shown.append({
            "code": code,
            "url": detail_url.replace(_CODE, code),
            "take_url": take_url.replace(_CODE, code),
            "subject": row["subject"],
            "contact": contact,
            "channel": _CHANNEL_LABELS.get(row["channel"], row["channel"]),
            "tags": tags.get(row["id"], ()),
            "sla_due": _moment(row["sla_due_at"], "j M, H:i"),
            "status": row["status"],
            "status_label": _STATUS_LABELS.get(row["status"], row["status"]),
            "priority": PRIORITY_NAMES[row["priority"]],
            "priority_label": _PRIORITY_LABELS[row["priority"]],
            "department": row["department__name"],
            "assignee": row["assignee__display_name"],
            "when": _moment(row["updated_at"] if by_activity else row["created_at"], "j M Y, H:i"),
        })
    return shown
