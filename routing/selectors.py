"""Reads for routing: decisions with their reasons, offers ringing for an agent, the audit of settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from departments.models import AgentProfile
from helpdesk.errors import NotFound
from helpdesk.filters import filterset_qs
from helpdesk.principals import Actor
from routing.filters import DecisionFilter
from routing.models import Offer, OfferState, RoutingDecision, SettingsChange
from tickets.models import CallRecord, Ticket
from tickets.selectors import ticket_visible_q


def decision_list(*, actor: Actor, ticket: Ticket | None = None) -> QuerySet[RoutingDecision]:
    """Decisions about tickets the actor may see, newest first."""
    visible = Ticket.objects.filter(ticket_visible_q(actor=actor)).values("pk")
    decisions = RoutingDecision.objects.filter(ticket_id__in=visible).select_related("ticket")
    if ticket is not None:
        decisions = decisions.filter(ticket=ticket)
    return decisions.order_by("-created_at", "-id")


def offer_list_ringing(*, actor: Actor) -> QuerySet[Offer]:
    agent = actor.agent
    if agent is None:
        return Offer.objects.none()
    return (
        Offer.objects.filter(agent=agent, state=OfferState.RINGING)
        .select_related("item__ticket__contact", "item__ticket__department").order_by("created_at", "id")
    )


def offer_ringing_any(*, actor: Actor) -> bool:
    """Whether anything rings for the actor: every agent page asks, and most of the time nothing does, which
    a plain read answers more cheaply than planning offer_list_ringing's five-table join."""
    agent = actor.agent
    return agent is not None and Offer.objects.filter(agent=agent, state=OfferState.RINGING).exists()


def settings_change_list(*, actor: Actor) -> QuerySet[SettingsChange]:
    return SettingsChange.objects.order_by("-created_at", "-id")


def decision_list_filtered(*, actor: Actor, filters: Mapping[str, Any]) -> QuerySet[RoutingDecision]:
    """``decision_list`` narrowed by DecisionFilter parameters (a query string's values); a bad one raises
    ApplicationError. Another tenant's or an invisible ticket's id simply matches nothing."""
    return filterset_qs(DecisionFilter(data=filters, queryset=decision_list(actor=actor)))


def decision_get(*, actor: Actor, decision_id: int) -> RoutingDecision:
    decision = decision_list(actor=actor).filter(pk=decision_id).first()
    if decision is None:
        raise NotFound("No such routing decision.")
    return decision


def decision_list_for_ticket(*, actor: Actor, ticket: Ticket, limit: int = 20) -> list[RoutingDecision]:
    """The ticket page's routing section: its latest decisions, newest first (the caller already checked that
    the actor sees the ticket)."""
    return list(RoutingDecision.objects.filter(ticket=ticket).order_by("-created_at", "-id")[:limit])


def call_list(*, actor: Actor) -> QuerySet[CallRecord]:
    """Calls of tickets the actor may see."""
    visible = Ticket.objects.filter(ticket_visible_q(actor=actor)).values("pk")
    return CallRecord.objects.filter(ticket_id__in=visible).select_related("ticket", "agent")


def call_get(*, actor: Actor, call_id: int) -> CallRecord:
    call = call_list(actor=actor).filter(pk=call_id).first()
    if call is None:
        raise NotFound("No such call.")
    return call


def settings_change_list_for_agent(*, actor: Actor, agent: AgentProfile, limit: int = 10) -> list[SettingsChange]:
    """An agent's recent routing changes. Changes are recorded under the agent's name at the time, so a rename
    starts a new history."""
    return list(
        SettingsChange.objects.filter(subject=f"Agent {agent.display_name}").order_by("-created_at", "-id")[:limit]
    )
