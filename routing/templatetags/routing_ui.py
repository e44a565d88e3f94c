"""Routing on other apps' pages: a ticket's decisions, the offers ringing for the signed-in agent, and an
agent's routing changes. Template tags keep the imports flowing one way: the ticket and agent pages belong to
lower apps, which must not import routing."""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import json_script
from django.utils.safestring import SafeString

from departments.models import AgentProfile
from helpdesk import push
from routing import selectors
from routing.models import Method, OfflineChats, RoutingChannel, RoutingDecision, SettingsChange
from tickets.models import Ticket

register = template.Library()

FIELD_LABELS = {
    "chat_method": "Chat method", "call_method": "Call method", "ticket_method": "Ticket method",
    "ring_seconds": "Ring time (s)", "offline_grace_seconds": "Offline grace (s)",
    "offline_chats": "Chats of an agent going offline", "prefer_last_agent": "Prefer the last agent",
    "auto_assign_tickets": "Assign tickets automatically", "chat_priority": "Chat priority",
    "max_chats": "Max chats", "call_priority": "Call priority", "max_calls": "Max calls",
    "takes_tickets": "Takes tickets", "takes_chats": "Takes chats", "takes_calls": "Takes calls",
}
_VALUE_LABELS = {**dict(Method.choices), **dict(OfflineChats.choices)}
_METHOD_LABELS = dict(Method.choices)
_CHANNEL_LABELS = dict(RoutingChannel.choices)


def _value(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "":
        return "—"
    return str(_VALUE_LABELS.get(value, value))


@register.filter
def change_lines(change: SettingsChange) -> list[str]:
    """``{"ring_seconds": [30, 20]}`` as "Ring time (s): 30 → 20", one line per field."""
    lines = []
    for name, pair in (change.changes or {}).items():
        before, after = (list(pair) + [None, None])[:2] if isinstance(pair, list | tuple) else (None, pair)
        lines.append(f"{FIELD_LABELS.get(name, name)}: {_value(before)} → {_value(after)}")
    return lines


def _decision_view(decision: RoutingDecision) -> dict[str, Any]:
    candidates = []
    for record in decision.candidates or []:
        stamp = record.get("last_assigned_at")
        candidates.append({
            **record,
            "last_assigned_at": parse_datetime(stamp) if isinstance(stamp, str) else None,
            "won": record.get("result") == "offered",
        })
    # Winners first, then the rest in the order they were considered, so the answer to "why not them" is
    # right below "who".
    candidates.sort(key=lambda c: not c["won"])
    return {
        "id": decision.pk, "created_at": decision.created_at, "outcome": decision.outcome,
        "method": _METHOD_LABELS.get(decision.method, decision.method),
        "channel": _CHANNEL_LABELS.get(decision.channel, decision.channel), "candidates": candidates,
    }


@register.inclusion_tag("routing/includes/ticket_routing.html", takes_context=True)
def ticket_routing(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    """The ticket page's Routing section (whoever may open the ticket may read why it went where it went)."""
    actor = context["request"].actor
    decisions = selectors.decision_list_for_ticket(actor=actor, ticket=ticket)
    return {"decisions": [_decision_view(decision) for decision in decisions]}


@register.simple_tag(takes_context=True)
def agent_push_config(context: template.Context) -> SafeString:
    """What static/js/agent.js needs to follow the signed-in agent's push stream, as a JSON script element.

    Rendered before the ringing offers and the rest of the page are read: an event published in between then
    has a sequence after this position and reaches the page, instead of falling between the two reads.
    """
    request = context["request"]
    actor = getattr(request, "actor", None)
    agent = actor.agent if actor is not None else None
    if agent is None:
        return SafeString("")
    stream = push.agent_stream(agent.pk)
    return json_script({
        "stream": stream,
        "position": push.stream_position(stream=stream),
        "serverNow": timezone.now().isoformat(),
        "socket": "/ws/agent/",
        "csrfToken": get_token(request),
        "urls": {
            "ticket": reverse("ticket-detail", kwargs={"code": "CODE"}),
            "offerAccept": reverse("offer-accept", args=[0]),
            "offerDecline": reverse("offer-decline", args=[0]),
            "counts": reverse("inbox-counts"),
            "status": reverse("agent-status"),
        },
    }, "agent-push-config")


@register.inclusion_tag("routing/includes/ringing.html", takes_context=True)
def ringing_offers(context: template.Context) -> dict[str, Any]:
    """What is ringing for the signed-in agent, with Accept and Decline forms that work without scripts.

    Agents always get the panel (hidden while nothing rings) so static/js/agent.js can ring offers into it.
    """
    request = context["request"]
    actor = getattr(request, "actor", None)
    is_agent = actor is not None and actor.agent is not None
    ringing = is_agent and selectors.offer_ringing_any(actor=actor)
    offers = list(selectors.offer_list_ringing(actor=actor)) if ringing else []
    return {"offers": offers, "is_agent": is_agent, "csrf_token": context.get("csrf_token"),
            "next": request.get_full_path()}


@register.inclusion_tag("routing/includes/agent_changes.html", takes_context=True)
def agent_routing_changes(context: template.Context, agent: AgentProfile) -> dict[str, Any]:
    return {"changes": selectors.settings_change_list_for_agent(actor=context["request"].actor, agent=agent)}
