"""Nothing lost in a chat: a visitor and an agent are writing to each other when the server both are connected
to dies (SIGKILL), the channel layer's Redis database is emptied and both clients' sockets are dropped. Messages
keep coming while neither has a socket; both reconnect to the other server with the last number they saw and
ask for a sync. Each side gets every message of the conversation, none twice.

Messages are written as the servers write them: through the chat services, each in its own transaction (from a
thread here, standing in for the request handlers), and by the visitor over the widget's socket.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections

from helpdesk import push
from helpdesk.tenancy import tenant_context
from routing import chats
from routing.models import Chat
from tests.chat.conftest import start_chat, widget_for
from tests.multiprocess.conftest import flush_redis
from tests.multiprocess.streams import ORIGIN, StreamClient, delivery_report, wait_until
from tests.multiprocess.test_nothing_lost import last_seq
from tests.multiprocess.test_scale import persisted_events
from tests.routing.routing_world import accept, ringing, team
from tickets.models import Message, MessageKind

SEEN_BEFORE_THE_CRASH = 4
MADE_WHILE_AWAY = 4
SEEN_LIVE_AFTER_THE_RECONNECT = 4
PAUSE = 0.05
# A ceiling, so a test that stopped waiting cannot leave the thread writing forever.
MAX_ROUNDS = 400


class Conversation(threading.Thread):
    """The visitor and the agent taking turns until told to stop, each message in its own transaction."""

    def __init__(self, world, chat: Chat, agent) -> None:
        super().__init__(name="conversation", daemon=True)
        self.world, self.chat = world, chat
        with tenant_context(world.tenant):
            self.agent_actor = world.actor_of(agent)
        self.stop = threading.Event()
        self.message_ids: list[int] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for n in range(1, MAX_ROUNDS + 1):
                if self.stop.is_set():
                    return
                with tenant_context(self.world.tenant):
                    message = chats.chat_visitor_message(chat=self.chat, body=f"Visitor line {n}")
                self.message_ids.append(message.pk)
                time.sleep(PAUSE)
                with tenant_context(self.world.tenant):
                    message = chats.chat_agent_reply(actor=self.agent_actor, chat=self.chat, body=f"Agent line {n}")
                self.message_ids.append(message.pk)
                time.sleep(PAUSE)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connections.close_all()


def chat_messages(client: StreamClient) -> list[dict]:
    return [e for e in client.events() if e["type"] == push.CHAT_MESSAGE]


def sent_from_the_widget(visitor: StreamClient, ref: str) -> int:
    """Send a message over the visitor's current socket and wait for the server's receipt; its message id."""
    visitor.send({"type": "message", "body": f"Typed in the widget ({ref})", "ref": ref})
    wait_until(lambda: any(f.get("ref") == ref for f in visitor.current.others), timeout=10,
               what=f"the receipt of {ref}")
    (receipt,) = [f for f in visitor.current.others if f.get("ref") == ref]
    assert receipt["type"] == "sent", receipt
    return receipt["message_id"]


@pytest.mark.django_db(transaction=True)
def test_a_chat_whose_server_dies_mid_conversation_loses_no_message_either_way(
    acme, servers, agent_tab, visitor_tab,
):
    server_a, server_b = servers.servers
    department, (agent,) = team(acme, {"max_chats": 5})
    widget = widget_for(acme, department=department, origins=[ORIGIN])
    agent_stream = push.agent_stream(agent.pk)
    tab = agent_tab(agent, acme.tenant)
    tab.connect(server_a.name, server_a.ws_url, after=0)

    # The visitor opens the chat; a worker rings the agent, who accepts.
    started = start_chat(acme, widget, "My order has not arrived.")
    ticket = started.chat.ticket
    visitor_stream = push.chat_stream(ticket.pk)
    wait_until(lambda: agent.pk in ringing(acme, ticket), timeout=30, what="the chat rings the agent")
    accept(acme, agent, ticket)
    visitor = visitor_tab(widget, started.chat, started.token)
    visitor.connect(server_a.name, server_a.ws_url, after=0)

    conversation = Conversation(acme, started.chat, agent)
    conversation.start()
    try:
        wait_until(lambda: min(len(chat_messages(visitor)), len(chat_messages(tab))) >= SEEN_BEFORE_THE_CRASH,
                   timeout=30, what="both sides see the conversation through server A")
        typed_on_a = sent_from_the_widget(visitor, "on A")

        server_a.kill()
        flush_redis()
        tab.drop()
        visitor.drop()
        agent_seen_on_a, visitor_seen_on_a = tab.last_seq, visitor.last_seq
        # The conversation goes on while neither side has a socket; these can only arrive by replay.
        wait_until(lambda: last_seq(acme, agent_stream) >= agent_seen_on_a + MADE_WHILE_AWAY
                   and last_seq(acme, visitor_stream) >= visitor_seen_on_a + MADE_WHILE_AWAY,
                   timeout=30, what="messages were written while both sides were disconnected")
        for client in (tab, visitor):
            client.connect(server_b.name, server_b.ws_url)
            client.sync()
        typed_on_b = sent_from_the_widget(visitor, "on B")
        # And it goes on live through server B, with the layer's groups rebuilt from nothing.
        agent_at, visitor_at = last_seq(acme, agent_stream), last_seq(acme, visitor_stream)
        wait_until(lambda: tab.last_seq >= agent_at + SEEN_LIVE_AFTER_THE_RECONNECT
                   and visitor.last_seq >= visitor_at + SEEN_LIVE_AFTER_THE_RECONNECT,
                   timeout=30, what="both sides see the conversation go on through server B")
    finally:
        conversation.stop.set()
        conversation.join(timeout=30)
    assert conversation.error is None, conversation.error
    assert not conversation.is_alive()

    with tenant_context(acme.tenant):
        message_ids = sorted(Message.objects.filter(
            ticket_id=ticket.pk, kind__in=[MessageKind.CUSTOMER, MessageKind.REPLY],
        ).values_list("id", flat=True))
        opening = Message.objects.filter(ticket_id=ticket.pk).order_by("created_at", "id").first().pk
    # Every message written is in the ticket, once: the opening one, the conversation's, the widget's two.
    assert message_ids == sorted([opening, *conversation.message_ids, typed_on_a, typed_on_b])

    for client, stream in ((tab, agent_stream), (visitor, visitor_stream)):
        final = last_seq(acme, stream)
        wait_until(lambda client=client, final=final: client.seen() >= set(range(1, final + 1)), timeout=30,
                   what=f"{stream} has every event up to {final}")
        persisted = persisted_events(acme, stream)
        report = delivery_report(client, persisted)
        assert (report.missing, report.unknown, report.different_from_database) == ([], [], []), stream
        assert (report.duplicates_on_a_socket, report.out_of_order_on_a_socket) == ({}, {}), stream
        assert sorted(persisted) == list(range(1, final + 1))
        # Not only no seq twice on a socket: the reconnect asked for exactly what was missing, so over both
        # sockets every event arrived exactly once.
        assert sorted(e["seq"] for e in client.events()) == list(range(1, final + 1)), stream
        on_a, on_b = client.sockets
        assert (on_a.server, on_b.server) == (server_a.name, server_b.name)
        assert on_a.closed and not server_a.alive
        assert on_a.seqs == list(range(1, on_b.after + 1))
        assert on_b.hello["position"] == on_b.after
        assert on_b.seqs == list(range(on_b.after + 1, final + 1))
    assert (tab.sockets[1].after, visitor.sockets[1].after) == (agent_seen_on_a, visitor_seen_on_a)

    # 0 lost messages, none shown twice: the visitor has the whole transcript; the agent every message after
    # accepting (the opening one came with the offer), each for this chat.
    assert sorted(e["message"]["id"] for e in chat_messages(visitor)) == message_ids
    assert sorted(e["message"]["id"] for e in chat_messages(tab)) == [i for i in message_ids if i != opening]
    assert {e["ticket_id"] for e in chat_messages(tab)} == {ticket.pk}
    # Both sides were sent messages of both kinds before, during and after the outage.
    for client in (tab, visitor):
        for socket in client.sockets:
            kinds = {e["message"]["kind"] for e in socket.events if e["type"] == push.CHAT_MESSAGE}
            assert kinds == {"visitor", "agent"}, (socket.server, kinds)
    tab.close()
    visitor.close()
