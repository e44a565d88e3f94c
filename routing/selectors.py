"""Reads for routing: decisions with their reasons, offers ringing for an agent, the audit of settings."""

from __future__ import annotations

from django.db.models import QuerySet

from helpdesk.principals import Actor
from routing.models import Offer, OfferState, RoutingDecision, SettingsChange
from tickets.models import Ticket
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


def settings_change_list(*, actor: Actor) -> QuerySet[SettingsChange]:
    return SettingsChange.objects.order_by("-created_at", "-id")
