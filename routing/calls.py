"""Phone calls reported by the telephony provider's webhook: a call arrives, is answered, ends or is missed.

A call is a ticket of channel ``call`` with its call record beside it. Creating the ticket fires the
TICKET_CREATED hook, through which routing queues it for an agent like any chat; the provider then reports
what happened on the line, and each report moves the call along one state machine:

    ringing -> answered -> ended
    ringing -> missed

Only admins (in practice the integration's admin API key) report calls: an agent key cannot invent one.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from departments.models import Department
from helpdesk.errors import ApplicationError, PermissionDenied
from helpdesk.principals import Actor
from routing.services import item_close
from tickets.models import CallRecord, CallState, Channel, EventKind, Status, Ticket
from tickets.services import ContactData, event_append, ticket_create, ticket_update


class CallEvent:
    ANSWERED = "answered"
    ENDED = "ended"
    MISSED = "missed"

    values = ("answered", "ended", "missed")


# Which report may follow which state; anything else is the provider reporting out of order.
TRANSITIONS: dict[str, dict[str, str]] = {
    CallState.RINGING: {CallEvent.ANSWERED: CallState.ANSWERED, CallEvent.MISSED: CallState.MISSED},
    CallState.ANSWERED: {CallEvent.ENDED: CallState.ENDED},
}
# Digits with the separators people and providers write: "+1 (555) 010-0100", "555.0100".
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ().\-]{2,38}$")
MAX_DURATION_SECONDS = 7 * 24 * 3600  # a week: anything longer is a provider's mistake, not a call
# What providers send when the caller hides their number. Such a call still rings; it just cannot be matched
# to a returning customer (every withheld caller would otherwise become one contact).
WITHHELD_NUMBERS = frozenset({"anonymous", "private", "restricted", "unknown", "withheld"})


def _require_telephony(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Calls are reported by the telephony integration, with an admin API key.")


def call_receive(
    *, actor: Actor, caller_number: str, line: str = "", department: Department | None = None,
) -> CallRecord:
    """A call starts ringing: open its ticket (recognising the caller by number) and queue it for an agent."""
    _require_telephony(actor)
    number = (caller_number or "").strip()
    line = (line or "").strip()
    errors: dict[str, list[str]] = {}
    withheld = number.lower() in WITHHELD_NUMBERS
    if not number:
        errors["caller_number"] = ["This field is required."]
    elif not withheld and not PHONE_PATTERN.match(number):
        errors["caller_number"] = ["Give a phone number: digits, an optional leading +, spaces, dots, dashes."]
    if len(line) > 60:
        errors["line"] = ["At most 60 characters."]
    if errors:
        raise ApplicationError("The call could not be received.", fields=errors)
    with transaction.atomic():
        # ticket_create fires TICKET_CREATED, and routing queues the ticket from there; its task is sent on
        # commit, by which time the call record below exists too.
        ticket = ticket_create(
            actor=actor, subject="Call from a withheld number" if withheld else f"Call from {number}",
            body=f"Incoming call on line {line}." if line else "Incoming call.",
            contact=ContactData(name="Withheld number") if withheld else ContactData(phone=number),
            channel=Channel.CALL, department=department,
        )
        call = CallRecord.objects.create(
            tenant_id=ticket.tenant_id, ticket=ticket, caller_number=number, line=line, started_at=ticket.created_at,
        )
    return call


def call_event(*, actor: Actor, call: CallRecord, event: str, duration_seconds: int | None = None) -> CallRecord:
    """Apply one report from the provider.

    - ``answered``: the call is being talked; its agent is the ticket's assignee, if it has one by now.
    - ``ended``: needs ``duration_seconds``; the ticket is resolved, which frees the agent for the next call.
    - ``missed``: the caller hung up before anyone answered. Ringing offers are withdrawn and the ticket
      leaves routing, but stays open and unassigned so someone calls back from To solve.
    """
    _require_telephony(actor)
    if event not in CallEvent.values:
        raise ApplicationError("Unknown call event.",
                               fields={"event": [f"Choose one of {', '.join(CallEvent.values)}."]})
    if event == CallEvent.ENDED:
        if duration_seconds is None:
            raise ApplicationError("Say how long the call lasted.",
                                   fields={"duration_seconds": ["Required when the call ended."]})
        if isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int) or not (
            0 <= duration_seconds <= MAX_DURATION_SECONDS
        ):
            raise ApplicationError("Invalid call duration.",
                                   fields={"duration_seconds": [f"Whole seconds from 0 to {MAX_DURATION_SECONDS}."]})
    elif duration_seconds is not None:
        raise ApplicationError("Only an ended call has a duration.",
                               fields={"duration_seconds": ["Only with the event `ended`."]})
    now = timezone.now()
    with transaction.atomic():
        # Lock order as in routing.services (ticket, then routing item): a report arriving while an agent
        # accepts the call's offer waits for the accept (or the accept for it) instead of deadlocking.
        Ticket.objects.select_for_update(no_key=True).filter(pk=call.ticket_id).first()
        # Two reports of the same call at once (providers retry) must not both pass the state check.
        locked = CallRecord.objects.select_for_update().get(pk=call.pk)
        next_state = TRANSITIONS.get(locked.state, {}).get(event)
        if next_state is None:
            raise ApplicationError(
                f"A call that is {locked.get_state_display().lower()} cannot be {event}.",
                fields={"event": [f"Not allowed after `{locked.state}`."]}, code="invalid_transition",
            )
        ticket = Ticket.objects.select_related("assignee").get(pk=locked.ticket_id)
        locked.state = next_state
        data: dict = {"call_id": locked.pk, "line": locked.line}
        if event == CallEvent.ANSWERED:
            locked.answered_at = now
            locked.agent = ticket.assignee
            data["agent"] = ticket.assignee.display_name if ticket.assignee else None
            event_append(ticket=ticket, kind=EventKind.CALL_ANSWERED, actor=actor, at=now, data=data)
        elif event == CallEvent.ENDED:
            locked.ended_at = now
            locked.duration_seconds = duration_seconds
            # The offer may have been accepted only after the provider reported the call answered.
            locked.agent = locked.agent or ticket.assignee
            data["duration_seconds"] = duration_seconds
            event_append(ticket=ticket, kind=EventKind.CALL_ENDED, actor=actor, at=now, data=data)
            # An offer still ringing for a call that is over would reserve an agent and, if accepted, reopen it.
            item_close(ticket=ticket)
            if ticket.status != Status.RESOLVED:
                ticket_update(actor=actor, ticket=ticket, status=Status.RESOLVED)
        else:
            locked.ended_at = now
            event_append(ticket=ticket, kind=EventKind.CALL_MISSED, actor=actor, at=now, data=data)
            item_close(ticket=ticket)
        locked.save(update_fields=["state", "answered_at", "ended_at", "duration_seconds", "agent"])
    return locked
