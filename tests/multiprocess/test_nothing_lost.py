"""Nothing lost: the channel layer delivers at most once, so every push is persisted with its stream's
sequence number and a socket replays what its client has not seen. Here the server an agent is connected to
dies (SIGKILL) while offers are being made for that agent, the channel layer's Redis database is emptied, and
the client's socket is dropped; the client reconnects to the other server with the last number it saw and
asks for a sync. Every offer made for the agent arrives, none twice on a socket.

The checks are per stream (``delivery_report``), so a chat visitor's stream can be put through the same
outage by connecting its client beside the agent's and comparing it with ``push.chat_stream(ticket_id)``.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections

from helpdesk import push
from helpdesk.tenancy import tenant_context
from routing import services
from routing.models import ItemState, Offer, RoutingItem
from tests.multiprocess.conftest import flush_redis
from tests.multiprocess.streams import delivery_report, wait_until
from tests.multiprocess.test_scale import persisted_events
from tests.routing.routing_world import chat, team

CHATS = 30
SEEN_BEFORE_THE_CRASH = 5
MADE_WHILE_AWAY = 2


class ChatArrivals(threading.Thread):
    """Visitors opening chats one after another, each in its own transaction, as web requests would."""

    def __init__(self, world, department, count: int) -> None:
        super().__init__(name="chat-arrivals", daemon=True)
        self.world, self.department, self.count = world, department, count
        self.ticket_ids: list[int] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for _ in range(self.count):
                self.ticket_ids.append(chat(self.world, self.department).pk)
                time.sleep(0.03)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connections.close_all()


def last_seq(world, stream: str) -> int:
    with tenant_context(world.tenant):
        return push.stream_position(stream=stream)


def queued_items(world) -> int:
    with tenant_context(world.tenant):
        return RoutingItem.objects.filter(state=ItemState.QUEUED).count()


@pytest.mark.django_db(transaction=True)
def test_a_sync_sent_while_the_replay_is_on_its_way_sends_nothing_twice(acme, servers, agent_tab):
    """A client's number can lag behind its socket only by frames still in flight; a sync must not send them
    again (this is what a reconnecting client does: connect with ?after=N, then sync after N at once)."""
    server_a, _ = servers.servers
    department, (agent,) = team(acme, {"max_chats": 10})
    for _ in range(3):
        chat(acme, department)
    stream = push.agent_stream(agent.pk)
    wait_until(lambda: last_seq(acme, stream) == 3, timeout=30, what="three offers are made")
    tab = agent_tab(agent, acme.tenant)
    # The hello is read before the replay that follows it, so this sync says "after 0" with 1..3 on the way.
    tab.connect(server_a.name, server_a.ws_url, after=0)
    tab.send({"type": "sync", "after": 0})
    tab.send({"type": "ping"})
    wait_until(lambda: tab.current.others, timeout=10, what="the pong after the sync")

    assert tab.current.seqs == [1, 2, 3]
    assert tab.current.others == [{"type": "pong", "position": 3}]
    tab.close()


@pytest.mark.django_db(transaction=True)
def test_an_agent_whose_server_dies_mid_offers_loses_nothing_and_gets_nothing_twice(acme, servers, agent_tab):
    server_a, server_b = servers.servers
    department, (agent,) = team(acme, {"max_chats": CHATS + 5})
    stream = push.agent_stream(agent.pk)
    tab = agent_tab(agent, acme.tenant)
    tab.connect(server_a.name, server_a.ws_url, after=0)

    arrivals = ChatArrivals(acme, department, CHATS)
    arrivals.start()
    try:
        wait_until(lambda: len(tab.seen()) >= SEEN_BEFORE_THE_CRASH, timeout=30,
                   what=f"{SEEN_BEFORE_THE_CRASH} offers reached the agent through server A")
        server_a.kill()
        flush_redis()
        tab.drop()
        seen_on_a = tab.last_seq
        # Offers keep coming while the agent has no socket at all; they can only arrive by replay.
        wait_until(lambda: last_seq(acme, stream) >= seen_on_a + MADE_WHILE_AWAY, timeout=30,
                   what="offers were made while the agent was disconnected")
        tab.connect(server_b.name, server_b.ws_url)
        tab.sync()
    finally:
        arrivals.join(timeout=60)
    assert arrivals.error is None, arrivals.error
    assert len(arrivals.ticket_ids) == CHATS

    # The flush also emptied the broker: routing tasks queued at that moment are gone, and the periodic
    # reconciler (run here, as beat would) routes what they left waiting.
    def all_routed() -> bool:
        with tenant_context(acme.tenant):
            services.items_reconcile(stale_after=timedelta(seconds=1))
        return queued_items(acme) == 0

    wait_until(all_routed, timeout=30, what="every chat is routed")
    with tenant_context(acme.tenant):
        offer_ids = set(Offer.objects.filter(agent=agent).values_list("id", flat=True))
    assert len(offer_ids) == CHATS
    final = last_seq(acme, stream)
    wait_until(lambda: tab.seen() >= set(range(1, final + 1)), timeout=30,
               what=f"the agent has every event up to {final}")

    persisted = persisted_events(acme, stream)
    report = delivery_report(tab, persisted)
    assert (report.missing, report.unknown, report.different_from_database) == ([], [], [])
    assert report.duplicates_on_a_socket == {}
    assert report.out_of_order_on_a_socket == {}
    assert sorted(persisted) == list(range(1, final + 1))
    ringing = {e["offer_id"] for e in tab.events() if e["type"] == push.OFFER_RINGING}
    assert ringing == offer_ids
    # What happened is what the test meant: A delivered some live and died; B replayed the rest and delivered
    # live after that.
    on_a, on_b = tab.sockets
    assert (on_a.server, on_b.server) == (server_a.name, server_b.name)
    assert on_a.closed and not server_a.alive
    assert on_a.seqs == list(range(1, seen_on_a + 1))
    assert on_b.after == seen_on_a and on_b.hello["position"] == seen_on_a
    assert on_b.seqs == list(range(seen_on_a + 1, final + 1))
    tab.close()
