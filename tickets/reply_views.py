"""The reply box's helpers on the ticket page: canned responses searched and filled in for the ticket."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from departments.replies import canned_response_search, placeholders_render
from helpdesk.web import member_required
from tickets import mail, selectors


@require_GET
@member_required
def ticket_canned_responses(request: HttpRequest, code: str) -> JsonResponse:
    """Canned responses usable on this ticket matching ``q``, their text filled in for this ticket and agent."""
    ticket = selectors.ticket_get(actor=request.actor, code=code)
    found = canned_response_search(department_id=ticket.department_id, query=request.GET.get("q", "")[:40])
    values = mail.placeholder_values(ticket, agent_name=request.actor.label) if found else {}
    return JsonResponse({"results": [
        {"id": c.pk, "shortcut": c.shortcut, "title": c.title, "body": placeholders_render(c.body, values)}
        for c in found
    ]})
