"""How rules learn that something happened to a ticket: receivers of the lower apps' hooks (connected in
routing.apps). Each only checks that the tenant has active rules for the trigger and asks a worker to run
them after commit; inside a rule's own actions it reports to the running chain instead."""

from __future__ import annotations

from typing import Any

from routing import services as routing_services
from routing.models import Rule, RuleTrigger
from routing.rules import engine
from tickets.models import Message, MessageKind, Ticket


def _has_rules(trigger: str) -> bool:
    return Rule.objects.filter(trigger=trigger, active=True).exists()


def on_ticket_created(*, ticket: Ticket) -> None:
    """A new ticket meets the "ticket created" rules before routing offers it: a rule that transfers it decides
    whose screen rings. The rules' task routes it when they are done (also when they fail for good); without
    such rules it is routed at once."""
    if _has_rules(RuleTrigger.TICKET_CREATED):
        engine.enqueue(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, trigger=RuleTrigger.TICKET_CREATED,
                       route_after=True)
        return
    routing_services.on_ticket_created(ticket=ticket)


def on_ticket_updated(*, ticket: Ticket, changed: set[str], **_: Any) -> None:
    fields = changed & engine.UPDATE_FIELDS
    if not fields:
        return
    run = engine.current_run()
    if run is not None:
        run.changed |= fields
        return
    if _has_rules(RuleTrigger.TICKET_UPDATED):
        engine.enqueue(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, trigger=RuleTrigger.TICKET_UPDATED,
                       changed=sorted(fields))


MESSAGE_TRIGGERS = {MessageKind.CUSTOMER: RuleTrigger.CUSTOMER_MESSAGE, MessageKind.REPLY: RuleTrigger.AGENT_REPLY}


def on_message_added(*, ticket: Ticket, message: Message) -> None:
    trigger = MESSAGE_TRIGGERS.get(message.kind)
    if trigger is None:
        return
    run = engine.current_run()
    if run is not None:
        run.messages.add(trigger)
        return
    if _has_rules(trigger):
        engine.enqueue(tenant_id=ticket.tenant_id, ticket_id=ticket.pk, trigger=trigger)
