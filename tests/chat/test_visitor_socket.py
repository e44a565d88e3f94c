"""The visitor's socket: admitted only with the widget's key, from one of its sites, with the chat's own token;
then the chat's stream in order, with replay after a reconnect, and never another tenant's events."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from helpdesk.asgi import application
from helpdesk.tenancy import tenant_context
from routing import chats
from tests.chat.conftest import SHOP, fresh_chat, route_and_accept, start_chat
from tickets.models import Message

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def open_socket(key: str, chat_id, token: str, *, origin: str = SHOP, after: int | None = 0):
    query = f"key={key}&chat={chat_id}&token={token}" + ("" if after is None else f"&after={after}")
    communicator = WebsocketCommunicator(application, f"/ws/chat/?{query}", headers=[(b"origin", origin.encode())])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def refused(communicator) -> bool:
    frame = await communicator.receive_json_from(timeout=2)
    closed = await communicator.receive_output(timeout=2)
    assert (frame["type"], frame["code"]) == ("error", "refused")
    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)
    return True


async def admitted(started, **kwargs):
    communicator = await open_socket(started.key, started.chat.pk, started.token, **kwargs)
    hello = await communicator.receive_json_from(timeout=2)
    assert hello["type"] == "hello" and hello["stream"] == f"chat:{started.ticket_id}"
    return communicator


async def frames(communicator, n: int) -> list[dict]:
    return [await communicator.receive_json_from(timeout=3) for _ in range(n)]


@database_sync_to_async
def started_chat(world, widget, message="Hello"):
    started = start_chat(world, widget, message)
    started.key = widget.key
    return started


async def test_a_wrong_key_a_foreign_site_or_another_visitors_token_are_refused(acme, widget):
    mine = await started_chat(acme, widget)
    theirs = await started_chat(acme, widget, "Someone else's chat")
    assert await refused(await open_socket("hdw_wrong", mine.chat.pk, mine.token))
    assert await refused(await open_socket(widget.key, mine.chat.pk, mine.token, origin="https://evil.example"))
    assert await refused(await open_socket(widget.key, theirs.chat.pk, mine.token))
    assert await refused(await open_socket(widget.key, mine.chat.pk, ""))


async def test_the_visitor_replays_the_transcript_writes_and_gets_the_agents_answers(acme, widget):
    started = await started_chat(acme, widget, "Is my order late?")
    socket = await admitted(started)
    (first,) = await frames(socket, 1)
    assert (first["seq"], first["type"], first["message"]["body"]) == (1, "chat.message", "Is my order late?")
    await database_sync_to_async(route_and_accept)(started)
    joined = await socket.receive_json_from(timeout=3)
    assert (joined["seq"], joined["type"], joined["agent"]) == (2, "chat.agent_joined", "Acme Agent 1")

    await socket.send_json_to({"type": "message", "body": "Order 1234", "ref": "r1"})
    received = sorted(await frames(socket, 2), key=lambda f: f["type"])
    pushed, ack = received
    assert (ack["type"], ack["ref"]) == ("sent", "r1")
    assert (pushed["seq"], pushed["message"]["kind"], pushed["message"]["body"]) == (3, "visitor", "Order 1234")

    @database_sync_to_async
    def persisted_and_reply():
        with tenant_context(acme.tenant):
            assert Message.objects.filter(pk=pushed["message"]["id"], body="Order 1234").exists()
            chats.chat_agent_reply(actor=acme.actor_of(acme.agents[0]), chat=fresh_chat(acme, started),
                                   body="It ships today.")
            chats.chat_end(actor=acme.actor_of(acme.agents[0]), chat=fresh_chat(acme, started))

    await persisted_and_reply()
    answer, ended = await frames(socket, 2)
    assert (answer["type"], answer["message"]["kind"], answer["message"]["body"]) == (
        "chat.message", "agent", "It ships today.")
    assert (ended["seq"], ended["type"]) == (5, "chat.ended")
    await socket.disconnect()


async def test_a_reconnecting_visitor_gets_only_what_they_missed_in_order(acme, widget):
    started = await started_chat(acme, widget)
    await database_sync_to_async(route_and_accept)(started)
    socket = await admitted(started)
    assert [f["seq"] for f in await frames(socket, 2)] == [1, 2]
    await socket.disconnect()

    @database_sync_to_async
    def replies_while_away():
        with tenant_context(acme.tenant):
            for body in ("Still there?", "I'll wait."):
                chats.chat_agent_reply(actor=acme.actor_of(acme.agents[0]), chat=fresh_chat(acme, started), body=body)

    await replies_while_away()
    again = await admitted(started, after=2)
    missed = await frames(again, 2)
    assert [(f["seq"], f["message"]["body"]) for f in missed] == [(3, "Still there?"), (4, "I'll wait.")]
    assert await again.receive_nothing(timeout=0.3)
    await again.disconnect()


async def test_a_tenants_visitor_never_gets_another_tenants_events(acme, globex, widget, globex_widget):
    ours = await started_chat(acme, widget, "acme question")
    theirs = await started_chat(globex, globex_widget, "globex question")
    # Chat ids are global: globex's key with acme's chat id (and even its token) finds nothing.
    assert await refused(await open_socket(globex_widget.key, ours.chat.pk, ours.token))
    acme_socket = await admitted(ours)
    globex_socket = await admitted(theirs)
    assert (await frames(acme_socket, 1))[0]["message"]["body"] == "acme question"
    assert (await frames(globex_socket, 1))[0]["message"]["body"] == "globex question"
    await database_sync_to_async(route_and_accept)(ours)
    assert (await acme_socket.receive_json_from(timeout=3))["type"] == "chat.agent_joined"
    assert await globex_socket.receive_nothing(timeout=0.3)
    await acme_socket.disconnect()
    await globex_socket.disconnect()


async def test_too_many_messages_get_an_error_frame_and_the_socket_stays_open(acme, widget):
    started = await started_chat(acme, widget)
    socket = await admitted(started)
    await frames(socket, 1)
    for n in range(10):
        await socket.send_json_to({"type": "message", "body": f"spam {n}", "ref": str(n)})
    await frames(socket, 20)  # each message's push and its acknowledgement
    await socket.send_json_to({"type": "message", "body": "one too many", "ref": "x"})
    error = await socket.receive_json_from(timeout=2)
    assert (error["type"], error["code"], error["ref"]) == ("error", "rate_limited", "x")
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=2))["type"] == "pong"

    @database_sync_to_async
    def stored():
        with tenant_context(acme.tenant):
            return Message.objects.filter(ticket_id=started.ticket_id, body="one too many").exists()

    assert not await stored()
    await socket.disconnect()


async def test_closing_the_last_socket_tells_the_agent_the_visitor_left(acme, widget):
    started = await started_chat(acme, widget)
    await database_sync_to_async(route_and_accept)(started)
    socket = await admitted(started)
    await frames(socket, 2)
    await socket.disconnect()

    @database_sync_to_async
    def agent_heard():
        from helpdesk import push
        from helpdesk.models import PushEvent

        with tenant_context(acme.tenant):
            return list(PushEvent.objects.filter(stream=push.agent_stream(acme.agents[0].pk))
                        .order_by("seq").values_list("type", flat=True))

    assert (await agent_heard())[-1] == "chat.visitor_left"


async def test_an_open_visitor_socket_beats_until_it_closes(acme, widget, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 0.1
    started = await started_chat(acme, widget)
    socket = await admitted(started)

    @database_sync_to_async
    def last_heard():
        return fresh_chat(acme, started).visitor_seen_at

    connected_at = await last_heard()
    await asyncio.sleep(0.5)
    assert await last_heard() > connected_at
    await socket.disconnect()
    closed_at = await last_heard()
    await asyncio.sleep(0.4)
    assert await last_heard() == closed_at  # no beat from a closed socket
    assert (await database_sync_to_async(fresh_chat)(acme, started)).open_sockets == 0


async def test_an_empty_message_gets_a_field_error(acme, widget):
    started = await started_chat(acme, widget)
    socket = await admitted(started)
    await frames(socket, 1)
    await socket.send_json_to({"type": "message", "body": "  ", "ref": "e"})
    error = await socket.receive_json_from(timeout=2)
    assert (error["type"], error["ref"]) == ("error", "e")
    await socket.send_json_to({"type": "leave"})
    assert (await socket.receive_json_from(timeout=2))["type"] == "left"
