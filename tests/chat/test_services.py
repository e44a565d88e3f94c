"""The chat lifecycle: start, messages both ways (persisted, then pushed), end, leave, transfer, and a message
left when nobody is online."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.heartbeat import CHAT, beat_once
from departments import services as department_services
from departments.models import AgentStatus
from helpdesk import push
from helpdesk.errors import ApplicationError, Conflict, NotFound
from helpdesk.models import PushEvent
from helpdesk.tenancy import tenant_context
from reports.models import Rating
from routing import chats, widgets
from routing.models import ChatWidgetKey, ItemState, Offer, OfferState, RoutingItem
from tests.chat.conftest import SHOP, fresh_chat, route_and_accept, start_chat, widget_for
from tickets.models import Channel, EventKind, Message, MessageKind, Status, Ticket, TicketEvent
from tickets.services import ticket_update


def events(world, stream: str) -> list[PushEvent]:
    with tenant_context(world.tenant):
        return list(PushEvent.objects.filter(stream=stream).order_by("seq"))


def kinds(world, ticket_id: int) -> list[str]:
    with tenant_context(world.tenant):
        return list(TicketEvent.objects.filter(ticket_id=ticket_id).order_by("id").values_list("kind", flat=True))


# --- starting -----------------------------------------------------------------------------------------------

def test_a_started_chat_is_a_chat_ticket_with_the_first_message_queued_for_routing(acme, widget):
    started = start_chat(acme, widget, "My order has not arrived", name="Maria Garcia", email="Maria@Example.com")
    with tenant_context(acme.tenant):
        ticket = Ticket.objects.select_related("contact").get(pk=started.ticket_id)
        assert (ticket.channel, ticket.status, ticket.department_id) == (Channel.CHAT, Status.NEW, acme.department.pk)
        assert (ticket.contact.name, ticket.contact.email) == ("Maria Garcia", "maria@example.com")
        assert list(Message.objects.filter(ticket=ticket).values_list("kind", "body")) == [
            (MessageKind.CUSTOMER, "My order has not arrived")
        ]
        assert RoutingItem.objects.get(ticket=ticket).state == ItemState.QUEUED
    assert EventKind.CHAT_STARTED in kinds(acme, started.ticket_id)
    # The visitor's own stream starts with their first message, so a reload replays the whole transcript.
    (first,) = events(acme, push.chat_stream(started.ticket_id))
    assert (first.type, first.payload["message"]["body"]) == ("chat.message", "My order has not arrived")
    # Only a hash of the visitor's token is stored.
    assert started.chat.visitor_token_hash == chats.token_hash(started.token)
    assert started.token not in started.chat.visitor_token_hash


def test_an_anonymous_visitor_is_known_by_a_visitor_id(acme, widget):
    started = start_chat(acme, widget, "Just a question")
    with tenant_context(acme.tenant):
        contact = Ticket.objects.select_related("contact").get(pk=started.ticket_id).contact
        assert contact.name == "" and contact.email == ""
        assert contact.display_name == contact.visitor_id and contact.visitor_id.startswith("v-")
        assert Message.objects.get(ticket_id=started.ticket_id).author_label == contact.visitor_id


def test_starting_needs_a_message_and_a_valid_email(acme, widget):
    with tenant_context(acme.tenant):
        with pytest.raises(ApplicationError) as empty:
            chats.chat_start(widget=widget, message="   ")
        with pytest.raises(ApplicationError) as bad_email:
            chats.chat_start(widget=widget, message="Hi", email="not-an-email")
    assert "message" in empty.value.fields
    assert "email" in bad_email.value.fields


def test_nobody_online_in_the_department_means_leave_a_message(acme, widget):
    with tenant_context(acme.tenant):
        # Agent 1 is Support's only member; agent 2 (online) is in no department and does not count.
        department_services.agent_update(actor=acme.admin, agent=acme.agents[0], status=AgentStatus.AWAY)
        assert widgets.chat_available(widget=widget) is False
        with pytest.raises(Conflict) as refused:
            chats.chat_start(widget=widget, message="Hello?")
        assert refused.value.code == "nobody_available"
        ticket = chats.offline_message_leave(widget=widget, message="Please call me back", email="a@b.example")
        assert (ticket.channel, ticket.department_id) == (Channel.CONTACT_FORM, acme.department.pk)
        assert not Ticket.objects.filter(channel=Channel.CHAT).exists()


def test_a_widget_without_department_is_available_when_any_chat_agent_is_online(acme):
    anywhere = widget_for(acme, name="Anywhere")
    with tenant_context(acme.tenant):
        for agent in [acme.admin_agent, *acme.agents]:
            department_services.agent_update(actor=acme.admin, agent=agent, takes_chats=False)
        assert widgets.chat_available(widget=anywhere) is False
        department_services.agent_update(actor=acme.admin, agent=acme.agents[1], takes_chats=True)
        assert widgets.chat_available(widget=anywhere) is True


def test_a_left_message_needs_an_email_and_a_message(acme, widget):
    with tenant_context(acme.tenant), pytest.raises(ApplicationError) as refused:
        chats.offline_message_leave(widget=widget, message="", email="")
    assert set(refused.value.fields) == {"message", "email"}


# --- the conversation -----------------------------------------------------------------------------------------

def test_accepting_tells_the_visitor_an_agent_joined_and_records_the_pickup(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started, agent=acme.agents[0])
    chat = fresh_chat(acme, started)
    assert chat.ticket.assignee_id == acme.agents[0].pk
    assert chat.accepted_at is not None and chat.accepted_at >= chat.started_at
    visitor = events(acme, push.chat_stream(started.ticket_id))
    assert [e.type for e in visitor] == ["chat.message", "chat.agent_joined"]
    assert visitor[-1].payload == {"agent": "Acme Agent 1"}
    assigned = [e for e in events(acme, push.agent_stream(acme.agents[0].pk)) if e.type == "chat.assigned"]
    assert assigned and assigned[0].payload["ticket_id"] == started.ticket_id


def test_messages_both_ways_are_persisted_and_logged_and_pushed_to_the_other_side(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    agent = acme.agents[0]
    with tenant_context(acme.tenant):
        chat = fresh_chat(acme, started)
        asked = chats.chat_visitor_message(chat=chat, body="Where is my parcel?")
        answered = chats.chat_agent_reply(actor=acme.actor_of(agent), chat=chat, body="On its way!")
        conversation = Message.objects.filter(ticket_id=started.ticket_id).order_by("id")
        assert list(conversation.values_list("kind", "body"))[1:] == [
            (MessageKind.CUSTOMER, "Where is my parcel?"), (MessageKind.REPLY, "On its way!"),
        ]
    to_agent = [e for e in events(acme, push.agent_stream(agent.pk)) if e.type == "chat.message"]
    assert [(e.payload["ticket_id"], e.payload["message"]["id"]) for e in to_agent] == [
        (started.ticket_id, asked.pk), (started.ticket_id, answered.pk),
    ]
    to_visitor = [e.payload["message"] for e in events(acme, push.chat_stream(started.ticket_id))
                  if e.type == "chat.message"]
    assert [(m["kind"], m["body"], m["author"]) for m in to_visitor[1:]] == [
        ("visitor", "Where is my parcel?", asked.author_label), ("agent", "On its way!", "Acme Agent 1"),
    ]
    log = kinds(acme, started.ticket_id)
    assert log.count(EventKind.CUSTOMER_MESSAGE) == 2 and EventKind.AGENT_REPLY in log


def test_a_rolled_back_message_is_never_pushed(acme, widget):
    started = start_chat(acme, widget)
    before = len(events(acme, push.chat_stream(started.ticket_id)))
    with pytest.raises(RuntimeError), tenant_context(acme.tenant):
        chats.chat_visitor_message(chat=fresh_chat(acme, started), body="Lost")
        raise RuntimeError("the request failed after the message")
    assert len(events(acme, push.chat_stream(started.ticket_id))) == before
    with tenant_context(acme.tenant):
        assert not Message.objects.filter(body="Lost").exists()


def test_only_the_assigned_agent_replies_ends_or_transfers(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    other = acme.actor_of(acme.agents[1])
    with tenant_context(acme.tenant):
        chat = fresh_chat(acme, started)
        with pytest.raises(NotFound):
            chats.chat_agent_reply(actor=other, chat=chat, body="Hi")
        with pytest.raises(NotFound):
            chats.chat_end(actor=other, chat=chat)
        with pytest.raises(NotFound):
            chats.chat_get_for_agent(actor=other, ticket_id=started.ticket_id)


# --- ending and leaving -----------------------------------------------------------------------------------------

def test_the_agent_ends_the_chat_the_ticket_is_resolved_and_the_visitor_told(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    agent = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        chats.chat_end(actor=agent, chat=fresh_chat(acme, started))
        chat = fresh_chat(acme, started)
        assert chat.ticket.status == Status.RESOLVED and chat.ended_at is not None and chat.ended_by == "agent"
        assert not chats.chat_list_running(actor=agent).exists()
        with pytest.raises(Conflict):
            chats.chat_visitor_message(chat=chat, body="One more thing")
        with pytest.raises(Conflict):
            chats.chat_agent_reply(actor=agent, chat=chat, body="Bye")
    assert events(acme, push.chat_stream(started.ticket_id))[-1].type == "chat.ended"
    assert events(acme, push.agent_stream(acme.agents[0].pk))[-1].type == "chat.ended"
    assert EventKind.CHAT_ENDED in kinds(acme, started.ticket_id)


def test_a_chat_resolved_from_the_ticket_page_is_over_for_the_visitor_too(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    agent = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        ticket_update(actor=agent, ticket=fresh_chat(acme, started).ticket, status=Status.RESOLVED)
        chat = fresh_chat(acme, started)
        assert chat.ended_at is not None and chat.ended_by == "agent"
        with pytest.raises(Conflict):
            chats.chat_visitor_message(chat=chat, body="Hello?")
    assert events(acme, push.chat_stream(started.ticket_id))[-1].type == "chat.ended"
    assert events(acme, push.agent_stream(acme.agents[0].pk))[-1].type == "chat.ended"
    assert kinds(acme, started.ticket_id).count(EventKind.CHAT_ENDED) == 1


def test_the_visitors_chat_ended_event_carries_a_link_that_rates_this_chat(client, acme, widget, settings):
    started = start_chat(acme, widget)
    route_and_accept(started)
    with tenant_context(acme.tenant):
        chats.chat_end(actor=acme.actor_of(acme.agents[0]), chat=fresh_chat(acme, started))
        code = fresh_chat(acme, started).ticket.code
    ended = events(acme, push.chat_stream(started.ticket_id))[-1]
    assert ended.type == "chat.ended"
    link = ended.payload["rating_link"]
    # Absolute: the widget runs on the customer's own site.
    assert link.startswith(f"{settings.PUBLIC_BASE_URL}/rate/")
    page = client.get(link)
    assert page.status_code == 200 and code in page.content.decode()
    assert client.post(link, {"value": "negative", "comment": "Too slow."}).status_code == 302
    with tenant_context(acme.tenant):
        rating = Rating.objects.get()
    assert (rating.ticket_id, rating.value, rating.comment) == (started.ticket_id, "negative", "Too slow.")


def test_a_chat_resolved_from_the_ticket_page_offers_the_rating_but_one_marked_spam_does_not(client, acme, widget):
    resolved, spam = start_chat(acme, widget), start_chat(acme, widget, "Buy cheap watches")
    route_and_accept(resolved)
    agent = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        ticket_update(actor=agent, ticket=fresh_chat(acme, resolved).ticket, status=Status.RESOLVED)
        ticket_update(actor=acme.admin, ticket=fresh_chat(acme, spam).ticket, status=Status.SPAM)
    link = events(acme, push.chat_stream(resolved.ticket_id))[-1].payload["rating_link"]
    assert client.get(link).status_code == 200
    spam_ended = events(acme, push.chat_stream(spam.ticket_id))[-1]
    assert spam_ended.type == "chat.ended" and "rating_link" not in spam_ended.payload


def test_ending_in_the_panel_is_logged_once(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    with tenant_context(acme.tenant):
        chats.chat_end(actor=acme.actor_of(acme.agents[0]), chat=fresh_chat(acme, started))
    assert kinds(acme, started.ticket_id).count(EventKind.CHAT_ENDED) == 1
    assert [e.type for e in events(acme, push.chat_stream(started.ticket_id))].count("chat.ended") == 1


def test_when_the_visitors_last_socket_closes_the_agent_is_told_and_again_when_they_return(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    agent_stream = push.agent_stream(acme.agents[0].pk)
    with tenant_context(acme.tenant):
        chats.chat_visitor_connected(chat=fresh_chat(acme, started))
        chats.chat_visitor_connected(chat=fresh_chat(acme, started))
        chats.chat_visitor_disconnected(chat_id=started.chat.pk)
    assert events(acme, agent_stream)[-1].type != "chat.visitor_left"  # another tab is still open
    with tenant_context(acme.tenant):
        chats.chat_visitor_disconnected(chat_id=started.chat.pk)
    assert events(acme, agent_stream)[-1].type == "chat.visitor_left"
    assert fresh_chat(acme, started).visitor_left_at is not None
    with tenant_context(acme.tenant):
        chats.chat_visitor_connected(chat=fresh_chat(acme, started))
    assert events(acme, agent_stream)[-1].type == "chat.visitor_returned"
    assert kinds(acme, started.ticket_id)[-2:] == [EventKind.VISITOR_LEFT, EventKind.VISITOR_RETURNED]


def answered_chat_with_visitor(world, widget):
    """A chat an agent accepted, with the visitor's socket open (heartbeats every 20 s)."""
    started = start_chat(world, widget)
    route_and_accept(started)
    with tenant_context(world.tenant):
        chats.chat_visitor_connected(chat=fresh_chat(world, started))
    return started


def sweep(world, *, now) -> int:
    """What the reconcile beat does for silent visitors: find them, then one transaction per chat."""
    with tenant_context(world.tenant):
        silent = chats.chats_with_silent_visitors(now=now)
    left = 0
    for chat_id in silent:
        with tenant_context(world.tenant):
            left += chats.chat_silent_visitor_leave(chat_id=chat_id, now=now)
    return left


def beat(world, started) -> None:
    """The heartbeat of the server holding the visitor's socket."""
    beat_once({world.tenant.pk: {CHAT: [started.chat.pk]}})


def test_a_visitor_whose_sockets_fell_silent_with_their_server_has_left(acme, widget, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    started = answered_chat_with_visitor(acme, widget)  # the socket's server then dies: no disconnect, no beat
    agent_stream = push.agent_stream(acme.agents[0].pk)
    last_heard = fresh_chat(acme, started).visitor_seen_at
    assert sweep(acme, now=last_heard + timedelta(seconds=59)) == 0
    assert fresh_chat(acme, started).visitor_left_at is None
    assert sweep(acme, now=last_heard + timedelta(seconds=61)) == 1
    assert sweep(acme, now=last_heard + timedelta(seconds=120)) == 0  # once
    chat = fresh_chat(acme, started)
    assert (chat.open_sockets, chat.ended_at) == (0, None)
    assert chat.visitor_left_at is not None
    assert events(acme, agent_stream)[-1].type == "chat.visitor_left"
    assert kinds(acme, started.ticket_id).count(EventKind.VISITOR_LEFT) == 1


def test_a_heartbeat_after_a_silence_brings_the_visitor_back(acme, widget, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    started = answered_chat_with_visitor(acme, widget)
    beat(acme, started)
    # Heard from just now: a sweep within the silence limit finds nothing to do.
    assert sweep(acme, now=timezone.now() + timedelta(seconds=59)) == 0
    # A stalled server: silent long enough to be counted gone, but its socket is still open.
    assert sweep(acme, now=timezone.now() + timedelta(seconds=61)) == 1
    beat(acme, started)
    chat = fresh_chat(acme, started)
    assert (chat.open_sockets, chat.visitor_left_at) == (1, None)
    assert events(acme, push.agent_stream(acme.agents[0].pk))[-1].type == "chat.visitor_returned"
    assert kinds(acme, started.ticket_id)[-2:] == [EventKind.VISITOR_LEFT, EventKind.VISITOR_RETURNED]


def test_an_ended_chat_is_not_swept(acme, widget, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    started = answered_chat_with_visitor(acme, widget)
    with tenant_context(acme.tenant):
        chats.chat_end(actor=acme.actor_of(acme.agents[0]), chat=fresh_chat(acme, started))
    assert sweep(acme, now=timezone.now() + timedelta(hours=1)) == 0
    beat(acme, started)  # a late beat from the ended chat's tab
    assert kinds(acme, started.ticket_id).count(EventKind.VISITOR_RETURNED) == 0


def test_a_visitor_leaving_before_anyone_answered_stops_the_ringing(acme, widget):
    started = start_chat(acme, widget)
    with tenant_context(acme.tenant):
        from routing import services

        item = RoutingItem.objects.get(ticket_id=started.ticket_id)
        services.item_route(item_id=item.pk)
        assert Offer.objects.filter(item=item, state=OfferState.RINGING).exists()
        chats.chat_visitor_leave(chat=fresh_chat(acme, started))
        assert not Offer.objects.filter(item=item, state=OfferState.RINGING).exists()
        assert RoutingItem.objects.get(pk=item.pk).state == ItemState.CANCELLED
    chat = fresh_chat(acme, started)
    assert chat.ended_by == "visitor" and chat.accepted_at is None
    withdrawn = [e for e in events(acme, push.agent_stream(acme.agents[0].pk)) if e.type == "offer.withdrawn"]
    assert withdrawn


def test_a_visitor_leaving_an_answered_chat_tells_the_agent_who_ends_it(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    with tenant_context(acme.tenant):
        chats.chat_visitor_leave(chat=fresh_chat(acme, started))
    assert events(acme, push.agent_stream(acme.agents[0].pk))[-1].type == "chat.visitor_left"
    assert fresh_chat(acme, started).ended_at is None


# --- transfers ----------------------------------------------------------------------------------------------------

def test_transferring_to_a_department_sends_the_chat_back_through_routing(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing",
                                                         members=[acme.agents[1]])
        chats.chat_transfer(actor=acme.actor_of(acme.agents[0]), chat=fresh_chat(acme, started), department=billing)
        ticket = Ticket.objects.get(pk=started.ticket_id)
        assert (ticket.department_id, ticket.assignee_id) == (billing.pk, None)
        assert RoutingItem.objects.get(ticket=ticket).state == ItemState.QUEUED
    assert events(acme, push.chat_stream(started.ticket_id))[-1].type == "chat.transferred"
    assert events(acme, push.agent_stream(acme.agents[0].pk))[-1].type == "ticket.transferred"
    first_pickup = fresh_chat(acme, started).accepted_at
    route_and_accept(started, agent=acme.agents[1])
    chat = fresh_chat(acme, started)
    assert chat.ticket.assignee_id == acme.agents[1].pk
    assert chat.accepted_at == first_pickup  # pickup time measures the first answer
    assert events(acme, push.chat_stream(started.ticket_id))[-1].payload == {"agent": "Acme Agent 2"}


def test_transferring_to_an_agent_hands_the_chat_over_at_once(acme, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    with tenant_context(acme.tenant):
        chats.chat_transfer(actor=acme.actor_of(acme.agents[0]), chat=fresh_chat(acme, started),
                            agent=acme.agents[1])
        assert [c.ticket_id for c in chats.chat_list_running(actor=acme.actor_of(acme.agents[1]))] == [
            started.ticket_id
        ]
    assert events(acme, push.agent_stream(acme.agents[1].pk))[-1].type == "chat.assigned"
    assert EventKind.CHAT_TRANSFERRED in kinds(acme, started.ticket_id)


def test_a_transfer_needs_one_target_that_can_take_the_chat(acme, globex, widget):
    started = start_chat(acme, widget)
    route_and_accept(started)
    actor = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        department_services.agent_update(actor=acme.admin, agent=acme.agents[1], status=AgentStatus.OFFLINE)
        chat = fresh_chat(acme, started)
        with pytest.raises(ApplicationError) as neither:
            chats.chat_transfer(actor=actor, chat=chat)
        with pytest.raises(ApplicationError) as offline:
            chats.chat_transfer(actor=actor, chat=chat, agent=acme.agents[1])
        with pytest.raises(ApplicationError) as foreign:
            chats.chat_transfer(actor=actor, chat=chat, department=globex.department)
    assert "target" in neither.value.fields and "agent" in offline.value.fields
    assert "department" in foreign.value.fields


# --- widgets ------------------------------------------------------------------------------------------------------

def test_widget_keys_resolve_without_a_tenant_and_origins_are_checked(acme, widget):
    ref = widgets.widget_key_lookup(key=widget.key)
    assert (ref.tenant.pk, ref.widget_id) == (acme.tenant.pk, widget.pk)
    assert ChatWidgetKey.objects.filter(key=widget.key).count() == 1
    assert widgets.widget_key_lookup(key="hdw_nope") is None
    with tenant_context(acme.tenant):
        assert widgets.widget_for_visitor(widget_id=widget.pk, origin=SHOP + "/").pk == widget.pk
        for origin in ("https://evil.example", "", "null", "http://shop.example"):
            with pytest.raises(NotFound):
                widgets.widget_for_visitor(widget_id=widget.pk, origin=origin)


def test_widget_origins_must_be_plain_sites(acme):
    with tenant_context(acme.tenant), pytest.raises(ApplicationError) as refused:
        widgets.widget_create(actor=acme.admin, name="Bad", allowed_origins=["https://ok.example/path", "ftp://x"])
    assert "allowed_origins" in refused.value.fields
    with tenant_context(acme.tenant), pytest.raises(ApplicationError):
        widgets.widget_create(actor=acme.actor_of(acme.agents[0]), name="Mine", allowed_origins=[SHOP])


def test_rate_limit_counts_per_bucket_and_window():
    assert [widgets.rate_limit_hit(bucket="t:a", limit=2, window_seconds=60) for _ in range(3)] == [
        False, False, True
    ]
    assert widgets.rate_limit_hit(bucket="t:b", limit=2, window_seconds=60) is False
