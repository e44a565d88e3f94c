"""Live chat: a visitor starts a chat from a widget, routing rings an agent, both write, and one of them ends it.

A chat is a ticket of channel ``chat`` (its messages are the transcript) with a ``Chat`` row beside it for the
visitor's secret and the moments reports measure. Every step writes its messages and log entries first and
publishes its pushes in the same transaction, once (see helpdesk.push): the visitor's stream is
``chat:<ticket id>``, the assigned agent's is ``agent:<agent id>``.

Lock order, as everywhere in routing: ticket, then chat, then routing item and offers. Taking the ticket first
also serialises a visitor's message with an agent ending the chat, so nothing is written to an ended chat.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from departments.models import AgentProfile, AgentStatus, Department
from helpdesk import push
from helpdesk.errors import ApplicationError, Conflict, NotFound
from helpdesk.principals import Actor
from routing.models import Chat, ChatEndedBy, ChatWidget
from routing.widgets import chat_available
from tickets.models import ACTIVE_STATUSES, ActorType, Channel, Contact, EventKind, Message, MessageKind, Status, Ticket
from tickets.rating_links import rating_link_for
from tickets.services import ContactData, event_append, message_add, ticket_create, ticket_update

MAX_MESSAGE_CHARS = 5000
MAX_NAME_CHARS = 120
TOO_LONG = f"At most {MAX_MESSAGE_CHARS} characters."
# Pushes of this module that helpdesk.push does not name (the visitor and the agent panel know them).
VISITOR_TRANSFERRED = "chat.transferred"
AGENT_VISITOR_RETURNED = "chat.visitor_returned"


def token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


# --- what the browsers are sent ---------------------------------------------------------------------------

def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": "visitor" if message.kind == MessageKind.CUSTOMER else "agent",
        "author": message.author_label,
        "body": message.body,
        "at": message.created_at.isoformat(),
    }


def transcript(ticket: Ticket) -> list[dict[str, Any]]:
    """The conversation as both sides see it: internal notes never leave the help desk."""
    messages = Message.objects.filter(ticket=ticket).exclude(kind=MessageKind.NOTE).order_by("created_at", "id")
    return [message_json(m) for m in messages]


def chat_json(chat: Chat, *, with_transcript: bool = True) -> dict[str, Any]:
    ticket = chat.ticket
    data = {
        "ticket_id": ticket.pk, "ticket": ticket.code, "subject": ticket.subject,
        "customer": ticket.contact.display_name, "email": ticket.contact.email,
        "department": ticket.department.name if ticket.department_id else None,
        "started_at": chat.started_at.isoformat(),
        "accepted_at": chat.accepted_at.isoformat() if chat.accepted_at else None,
        "ended_at": chat.ended_at.isoformat() if chat.ended_at else None,
        "visitor_left": chat.visitor_left_at is not None,
    }
    if with_transcript:
        data["messages"] = transcript(ticket)
    return data


def _visitor_actor(ticket: Ticket) -> dict[str, Any]:
    return {"actor_type": ActorType.CUSTOMER, "actor_id": ticket.contact_id, "actor_label": ticket.contact.display_name}


def _lock(chat_id: int) -> tuple[Ticket, Chat]:
    chat = Chat.objects.filter(pk=chat_id).values_list("ticket_id", flat=True).first()
    if chat is None:
        raise NotFound("No such chat.")
    ticket = (
        Ticket.objects.select_for_update(no_key=True, of=("self",)).select_related("contact", "assignee").get(pk=chat)
    )
    return ticket, Chat.objects.select_for_update().get(pk=chat_id)


# --- the visitor's side ------------------------------------------------------------------------------------

def _anonymous_contact_fix(ticket: Ticket, label: str) -> None:
    """An anonymous visitor is known by their visitor id alone. ticket_create needs some name to make a contact,
    so the visitor id goes in as the name and then becomes the contact's visitor id instead; log entries
    written meanwhile already carry that same label."""
    try:
        with transaction.atomic():
            Contact.objects.filter(pk=ticket.contact_id).update(visitor_id=label, name="")
    except IntegrityError:
        pass  # the label is taken by another visitor (one in 31^8): the contact keeps it as a name, harmlessly


def chat_start(
    *, widget: ChatWidget, message: str, name: str = "", email: str = "", at: datetime | None = None,
) -> tuple[Chat, str]:
    """Open a chat from ``widget`` with the visitor's first message; routing rings an agent once this commits.

    Returns the chat and the visitor's token, which is not stored (only its hash) and lets the visitor's
    browser, and nobody else, continue the chat. Raises Conflict ``nobody_available`` when no agent could answer:
    the widget then offers to leave a message instead.
    """
    from tickets.services import visitor_id_generate

    body = (message or "").strip()
    name = (name or "").strip()[:MAX_NAME_CHARS]
    email = (email or "").strip()
    errors: dict[str, list[str]] = {}
    if not body:
        errors["message"] = ["Write a message to start the chat."]
    elif len(body) > MAX_MESSAGE_CHARS:
        errors["message"] = [f"At most {MAX_MESSAGE_CHARS} characters."]
    if errors:
        raise ApplicationError("The chat could not be started.", fields=errors)
    if not chat_available(widget=widget):
        raise Conflict("Nobody is available to chat right now: leave a message instead.", code="nobody_available")
    raw_token = secrets.token_urlsafe(32)
    now = at or timezone.now()
    anonymous_label = "" if (name or email) else visitor_id_generate()
    with transaction.atomic():
        ticket = ticket_create(
            actor=None, subject=f"Chat: {body.splitlines()[0][:80]}", body=body, channel=Channel.CHAT,
            contact=ContactData(name=name or anonymous_label, email=email), department=widget.department,
            created_at=now,
        )
        if anonymous_label:
            _anonymous_contact_fix(ticket, anonymous_label)
        ticket = Ticket.objects.select_related("contact", "department").get(pk=ticket.pk)
        chat = Chat.objects.create(tenant_id=ticket.tenant_id, ticket=ticket, widget=widget,
                                   visitor_token_hash=token_hash(raw_token), started_at=now)
        event_append(ticket=ticket, kind=EventKind.CHAT_STARTED, actor=None, at=now,
                     actor_fields=_visitor_actor(ticket), data={"widget": widget.name})
        first = Message.objects.filter(ticket=ticket).order_by("created_at", "id").first()
        push.publish([push.Push(push.chat_stream(ticket.pk), push.VISITOR_MESSAGE, {"message": message_json(first)})])
    return chat, raw_token


def offline_message_leave(*, widget: ChatWidget, message: str, email: str, name: str = "") -> Ticket:
    """Nobody could chat: the visitor's message becomes a contact-form ticket, answered by email later."""
    body = (message or "").strip()
    errors: dict[str, list[str]] = {}
    if not body:
        errors["message"] = ["This field is required."]
    elif len(body) > MAX_MESSAGE_CHARS:
        errors["message"] = [f"At most {MAX_MESSAGE_CHARS} characters."]
    if not (email or "").strip():
        errors["email"] = ["Give your email so we can answer."]
    if errors:
        raise ApplicationError("The message could not be sent.", fields=errors)
    return ticket_create(
        actor=None, subject=f"Message from the chat widget: {body.splitlines()[0][:60]}", body=body,
        channel=Channel.CONTACT_FORM, contact=ContactData(name=(name or "").strip()[:MAX_NAME_CHARS], email=email),
        department=widget.department,
    )


def chat_for_visitor(*, chat_id: int, raw_token: str) -> Chat:
    """The chat whose token this is. A wrong token and another tenant's or a missing chat answer alike."""
    chat = Chat.objects.select_related("ticket__contact").filter(pk=chat_id).first()
    if chat is None or not hmac.compare_digest(chat.visitor_token_hash, token_hash(raw_token or "")):
        raise NotFound("No such chat.")
    return chat


def chat_visitor_message(*, chat: Chat, body: str) -> Message:
    body = (body or "").strip()
    if not body:
        raise ApplicationError("The message is empty.", fields={"body": ["Write something first."]})
    if len(body) > MAX_MESSAGE_CHARS:
        raise ApplicationError("The message is too long.", fields={"body": [TOO_LONG]})
    with transaction.atomic():
        ticket, chat = _lock(chat.pk)
        if chat.is_ended:
            raise Conflict("This chat has ended.", code="chat_ended")
        message = message_add(actor=None, ticket=ticket, kind=MessageKind.CUSTOMER, body=body)
        payload = message_json(message)
        pushes = [push.Push(push.chat_stream(ticket.pk), push.VISITOR_MESSAGE, {"message": payload})]
        if ticket.assignee_id:
            pushes.append(push.Push(push.agent_stream(ticket.assignee_id), push.CHAT_MESSAGE,
                                    {"ticket_id": ticket.pk, "message": payload}))
        push.publish(pushes)
    return message


def chat_visitor_leave(*, chat: Chat) -> None:
    """The visitor closed the chat. Before an agent answered, the chat is over (its offers stop ringing and the
    ticket waits in To solve, like a missed call); after, the agent is told and ends it."""
    from routing.services import item_close

    now = timezone.now()
    with transaction.atomic():
        ticket, chat = _lock(chat.pk)
        if chat.is_ended:
            return
        if ticket.assignee_id is None:
            chat.ended_at = now
            chat.ended_by = ChatEndedBy.VISITOR
            chat.visitor_left_at = chat.visitor_left_at or now
            chat.save(update_fields=["ended_at", "ended_by", "visitor_left_at"])
            event_append(ticket=ticket, kind=EventKind.CHAT_ENDED, actor=None, at=now,
                         actor_fields=_visitor_actor(ticket), data={"by": ChatEndedBy.VISITOR, "answered": False})
            # Publishes the withdrawn offers itself: the only pushes of this transaction.
            item_close(ticket=ticket)
            return
        _visitor_left(ticket, chat, now)


def _visitor_left(ticket: Ticket, chat: Chat, now: datetime) -> None:
    if chat.visitor_left_at is not None:
        return
    chat.visitor_left_at = now
    chat.save(update_fields=["visitor_left_at"])
    event_append(ticket=ticket, kind=EventKind.VISITOR_LEFT, actor=None, at=now, actor_fields=_visitor_actor(ticket))
    if ticket.assignee_id:
        push.publish([push.Push(push.agent_stream(ticket.assignee_id), push.CHAT_VISITOR_LEFT,
                                {"ticket_id": ticket.pk})])


def chat_visitor_connected(*, chat: Chat) -> None:
    """A visitor's tab opened its socket; one coming back after all had closed is told to the agent."""
    now = timezone.now()
    with transaction.atomic():
        ticket, chat = _lock(chat.pk)
        chat.open_sockets += 1
        chat.visitor_seen_at = now
        fields = ["open_sockets", "visitor_seen_at"]
        returned = chat.visitor_left_at is not None and not chat.is_ended
        if returned:
            chat.visitor_left_at = None
            fields.append("visitor_left_at")
        chat.save(update_fields=fields)
        if returned:
            event_append(ticket=ticket, kind=EventKind.VISITOR_RETURNED, actor=None, at=now,
                         actor_fields=_visitor_actor(ticket))
            if ticket.assignee_id:
                push.publish([push.Push(push.agent_stream(ticket.assignee_id), AGENT_VISITOR_RETURNED,
                                        {"ticket_id": ticket.pk})])


def chat_visitor_disconnected(*, chat_id: int) -> None:
    """A visitor's socket closed; with the last one gone, the visitor has left."""
    now = timezone.now()
    with transaction.atomic():
        try:
            ticket, chat = _lock(chat_id)
        except NotFound:
            return
        chat.open_sockets = max(chat.open_sockets - 1, 0)
        chat.save(update_fields=["open_sockets"])
        if chat.open_sockets == 0 and not chat.is_ended:
            _visitor_left(ticket, chat, now)


def chats_visitors_seen(*, chat_ids: list[int]) -> list[int]:
    """A server's heartbeat for the chats it has visitor sockets open for. Returns the running chats among them
    whose count a long silence (a stalled server) had already taken as gone: their sockets are alive after all,
    and each is to be brought back with chat_visitor_back, in a transaction of its own (it pushes to the agent)."""
    Chat.objects.filter(pk__in=chat_ids, open_sockets__gt=0).update(visitor_seen_at=timezone.now())
    return list(Chat.objects.filter(pk__in=chat_ids, open_sockets=0, ended_at__isnull=True)
                .values_list("pk", flat=True))


def chat_visitor_back(*, chat_id: int) -> None:
    """A socket of a visitor counted gone during a silence is heard from again: counted, and the agent told."""
    chat = Chat.objects.filter(pk=chat_id).first()
    if chat is not None:
        chat_visitor_connected(chat=chat)


def chats_with_silent_visitors(*, now: datetime | None = None) -> list[int]:
    """Running chats whose visitor sockets have all been silent for three heartbeats: they were lost with a
    server that died, which never ran their disconnect. Each is for chat_silent_visitor_leave, in a transaction
    of its own: it pushes to the chat's agent, and one transaction holding several agents' stream counters in
    chat order could deadlock with a routing decision taking them in key order."""
    from routing.services import presence_silence_limit

    heard_since = (now or timezone.now()) - presence_silence_limit()
    silent = Q(visitor_seen_at__lt=heard_since) | Q(visitor_seen_at__isnull=True)
    return list(Chat.objects.filter(silent, ended_at__isnull=True, open_sockets__gt=0).values_list("pk", flat=True))


def chat_silent_visitor_leave(*, chat_id: int, now: datetime | None = None) -> bool:
    """The visitor of a chat whose sockets fell silent has left, as if the sockets had closed. Looked at again
    under the chat's lock (a socket may have connected or beaten meanwhile); returns whether they left."""
    from routing.services import presence_silence_limit

    now = now or timezone.now()
    heard_since = now - presence_silence_limit()
    with transaction.atomic():
        try:
            ticket, chat = _lock(chat_id)
        except NotFound:
            return False
        if chat.is_ended or chat.open_sockets == 0 or (chat.visitor_seen_at or heard_since) > heard_since:
            return False
        chat.open_sockets = 0
        chat.save(update_fields=["open_sockets"])
        _visitor_left(ticket, chat, now)
    return True


# --- the agent's side --------------------------------------------------------------------------------------

def chat_list_running(*, actor: Actor) -> QuerySet[Chat]:
    """The agent's own chats that have not ended, oldest first."""
    agent = actor.agent
    if agent is None:
        return Chat.objects.none()
    return (
        Chat.objects.filter(ticket__assignee=agent, ticket__status__in=ACTIVE_STATUSES, ended_at__isnull=True)
        .select_related("ticket__contact", "ticket__department").order_by("started_at", "id")
    )


def chat_get_for_agent(*, actor: Actor, ticket_id: int) -> Chat:
    """A chat the acting agent owns (running or ended); anything else is not found."""
    agent = actor.agent
    chat = (
        Chat.objects.select_related("ticket__contact", "ticket__department")
        .filter(ticket_id=ticket_id, ticket__assignee_id=agent.pk if agent else None).first()
    )
    if chat is None:
        raise NotFound("No such chat.")
    return chat


def _owned_running(actor: Actor, chat: Chat) -> tuple[Ticket, Chat]:
    """Lock the chat for a change by its agent: only the agent who has it, and only while it runs."""
    ticket, chat = _lock(chat.pk)
    agent = actor.agent
    if agent is None or ticket.assignee_id != agent.pk:
        raise NotFound("No such chat.")
    if chat.is_ended:
        raise Conflict("This chat has ended.", code="chat_ended")
    return ticket, chat


def chat_agent_reply(*, actor: Actor, chat: Chat, body: str) -> Message:
    body = (body or "").strip()
    if len(body) > MAX_MESSAGE_CHARS:
        raise ApplicationError("The message is too long.", fields={"body": [TOO_LONG]})
    with transaction.atomic():
        ticket, chat = _owned_running(actor, chat)
        message = message_add(actor=actor, ticket=ticket, kind=MessageKind.REPLY, body=body)
        payload = message_json(message)
        push.publish([
            push.Push(push.chat_stream(ticket.pk), push.VISITOR_MESSAGE, {"message": payload}),
            # The agent's other tabs show it too.
            push.Push(push.agent_stream(ticket.assignee_id), push.CHAT_MESSAGE,
                      {"ticket_id": ticket.pk, "message": payload}),
        ])
    return message


def chat_end(*, actor: Actor, chat: Chat) -> Chat:
    """The agent ends the chat: the ticket is resolved, which frees the agent's slot for the next chat."""
    now = timezone.now()
    with transaction.atomic():
        ticket, chat = _owned_running(actor, chat)
        chat.ended_at = now
        chat.ended_by = ChatEndedBy.AGENT
        chat.save(update_fields=["ended_at", "ended_by"])
        duration = int((now - (chat.accepted_at or chat.started_at)).total_seconds())
        event_append(ticket=ticket, kind=EventKind.CHAT_ENDED, actor=actor, at=now,
                     data={"by": ChatEndedBy.AGENT, "duration_seconds": duration})
        if ticket.status != Status.RESOLVED:
            ticket_update(actor=actor, ticket=ticket, status=Status.RESOLVED)
        push.publish([
            push.Push(push.chat_stream(ticket.pk), push.VISITOR_CHAT_ENDED,
                      _visitor_ended_payload(ticket, resolved=True)),
            push.Push(push.agent_stream(ticket.assignee_id), push.CHAT_ENDED, {"ticket_id": ticket.pk}),
        ])
    return chat


def _visitor_ended_payload(ticket: Ticket, *, resolved: bool) -> dict[str, Any]:
    """What the visitor's widget is told when an agent's side ends the chat: with the link to rate it when the
    ticket is resolved (one marked spam cannot be rated, so its visitor is not asked)."""
    payload: dict[str, Any] = {"by": ChatEndedBy.AGENT}
    if resolved:
        payload["rating_link"] = rating_link_for(ticket)
    return payload


def chat_close_with_ticket(*, ticket: Ticket, pushes: list[push.Push]) -> None:
    """The chat's ticket was resolved or marked spam outside the chat panel (ticket page, API, a rule): the
    conversation is over for the visitor too. The caller holds the ticket's lock and publishes ``pushes``."""
    chat = Chat.objects.select_for_update().filter(ticket_id=ticket.pk, ended_at__isnull=True).first()
    if chat is None:
        return  # ended in the panel (which resolves the ticket itself), or not a widget chat
    now = timezone.now()
    chat.ended_at = now
    chat.ended_by = ChatEndedBy.AGENT
    chat.save(update_fields=["ended_at", "ended_by"])
    duration = int((now - (chat.accepted_at or chat.started_at)).total_seconds())
    event_append(ticket=ticket, kind=EventKind.CHAT_ENDED, actor=None, at=now,
                 data={"by": ChatEndedBy.AGENT, "duration_seconds": duration, "via": ticket.status})
    pushes.append(push.Push(push.chat_stream(ticket.pk), push.VISITOR_CHAT_ENDED,
                            _visitor_ended_payload(ticket, resolved=ticket.status == Status.RESOLVED)))
    if ticket.assignee_id is not None:
        pushes.append(push.Push(push.agent_stream(ticket.assignee_id), push.CHAT_ENDED, {"ticket_id": ticket.pk}))


def transfer_agent_list(*, actor: Actor) -> QuerySet[AgentProfile]:
    """Who a chat can be handed to: other agents online who take chats."""
    agents = AgentProfile.objects.filter(status=AgentStatus.ONLINE, takes_chats=True).order_by("display_name", "id")
    if actor.agent is not None:
        agents = agents.exclude(pk=actor.agent.pk)
    return agents


def chat_transfer(
    *, actor: Actor, chat: Chat, department: Department | None = None, agent: AgentProfile | None = None,
) -> Chat:
    """Hand a running chat over. To a department, it goes back to routing, which rings that department's
    agents (the visitor waits as at the start); to an agent, it becomes theirs at once. The transcript stays."""
    errors: dict[str, list[str]] = {}
    if (department is None) == (agent is None):
        errors["target"] = ["Choose either a department or an agent."]
    tenant_id = chat.tenant_id
    if department is not None and department.tenant_id != tenant_id:
        errors["department"] = ["No such department."]
    if agent is not None:
        if agent.tenant_id != tenant_id:
            errors["agent"] = ["No such agent."]
        elif not transfer_agent_list(actor=actor).filter(pk=agent.pk).exists():
            errors["agent"] = ["Choose another agent who is online and takes chats."]
    if errors:
        raise ApplicationError("The chat could not be transferred.", fields=errors)
    now = timezone.now()
    with transaction.atomic():
        ticket, chat = _owned_running(actor, chat)
        previous = ticket.assignee
        pushes = [push.Push(push.agent_stream(previous.pk), push.TICKET_TRANSFERRED,
                            {"ticket_id": ticket.pk, "ticket": ticket.code, "via": "chat_transfer"})]
        if department is not None:
            # Unassigning makes routing queue the chat again (its TICKET_UPDATED hook), now in the new department.
            ticket_update(actor=actor, ticket=ticket, department=department, assignee=None)
            target = department.name
            pushes.append(push.Push(push.chat_stream(ticket.pk), VISITOR_TRANSFERRED, {"to": department.name}))
        else:
            ticket_update(actor=actor, ticket=ticket, assignee=agent)
            target = agent.display_name
            pushes.append(push.Push(push.chat_stream(ticket.pk), push.VISITOR_AGENT_JOINED,
                                    {"agent": agent.display_name}))
            pushes.append(push.Push(push.agent_stream(agent.pk), push.CHAT_ASSIGNED, {
                "offer_id": None, "ticket_id": ticket.pk, "ticket": ticket.code, "subject": ticket.subject,
                "channel": ticket.channel, "customer": ticket.contact.display_name, "via": "chat_transfer",
            }))
        event_append(ticket=ticket, kind=EventKind.CHAT_TRANSFERRED, actor=actor, at=now,
                     data={"from": previous.display_name, "to": target,
                           "kind": "department" if department is not None else "agent"})
        push.publish(pushes)
    return chat


# --- routing's side ----------------------------------------------------------------------------------------

def chat_accepted(*, ticket: Ticket, agent: AgentProfile, now: datetime) -> list[push.Push]:
    """An agent accepted the chat's offer: record the pickup (the first only; a transferred chat keeps its
    original) and return the visitor's "agent joined" push for the accepting transaction to publish."""
    picked_up = Chat.objects.filter(ticket_id=ticket.pk, accepted_at__isnull=True).update(accepted_at=now)
    if not picked_up and not Chat.objects.filter(ticket_id=ticket.pk).exists():
        return []  # a chat ticket entered by hand or through the API has no visitor to tell
    return [push.Push(push.chat_stream(ticket.pk), push.VISITOR_AGENT_JOINED, {"agent": agent.display_name})]


def department_list_for_transfer() -> QuerySet[Department]:
    return Department.objects.order_by("name", "id")

