"""The chat visitor's socket: ``/ws/chat/?key=<widget key>&chat=<id>&token=<visitor token>[&after=N]``.

It is opened from customers' websites, so it is not behind the agents' allowed-hosts Origin check: the widget's
own list of sites is checked instead. The key names the tenant, the token proves the chat is this visitor's,
and from then on the socket is the chat's push stream (replay, gap filling, sync and ping) plus the visitor's
own commands: ``{"type": "message", "body": ..., "ref": ...}`` and ``{"type": "leave"}``.

Refusals are sent as an error frame and a close code >= 4000, which tells the widget not to reconnect.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from channels_app.heartbeat import CHAT, heartbeat
from channels_app.streams import StreamConsumer, query_int
from helpdesk import push
from helpdesk.errors import ApplicationError
from helpdesk.models import Tenant
from helpdesk.tenancy import tenant_context
from routing import chats, widgets

MESSAGES_PER_WINDOW = 10
MESSAGE_WINDOW_SECONDS = 10
CLOSE_REFUSED = 4403


def _query(scope: dict, name: str) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else ""


def _origin(scope: dict) -> str:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin-1")
    return ""


@database_sync_to_async
def _admit(key: str, origin: str, chat_id: int | None, token: str) -> tuple[int, int] | None:
    """(tenant id, chat id) when the key, the page's origin and the visitor's token all match; else None."""
    ref = widgets.widget_key_lookup(key=key)
    if ref is None or chat_id is None:
        return None
    with tenant_context(ref.tenant):
        try:
            widget = widgets.widget_for_visitor(widget_id=ref.widget_id, origin=origin)
            chat = chats.chat_for_visitor(chat_id=chat_id, raw_token=token)
        except ApplicationError:
            return None
        if chat.widget_id != widget.pk:
            return None
        chats.chat_visitor_connected(chat=chat)
        return ref.tenant.pk, chat.ticket_id


@database_sync_to_async
def _call(tenant_id: int, chat_id: int, action: str, **kwargs) -> dict:
    with tenant_context(Tenant.objects.get(pk=tenant_id)):
        if action == "disconnected":
            chats.chat_visitor_disconnected(chat_id=chat_id)
            return {}
        chat = chats.Chat.objects.select_related("ticket__contact").get(pk=chat_id)
        if action == "message":
            message = chats.chat_visitor_message(chat=chat, body=kwargs["body"])
            return {"message_id": message.pk}
        chats.chat_visitor_leave(chat=chat)
        return {}


class VisitorConsumer(StreamConsumer):
    chat_id: int | None = None

    async def connect(self) -> None:
        await self.accept()
        chat_id = query_int(self.scope, "chat")
        admitted = await _admit(_query(self.scope, "key"), _origin(self.scope), chat_id,
                                _query(self.scope, "token"))
        if admitted is None:
            await self.send_json({"type": "error", "code": "refused",
                                  "message": "This chat cannot be continued here."})
            await self.close(code=CLOSE_REFUSED)
            return
        tenant_id, ticket_id = admitted
        self.chat_id = chat_id
        self.visitor_key = f"{tenant_id}:{chat_id}"
        await self.stream_open(tenant_id=tenant_id, stream=push.chat_stream(ticket_id),
                               after=query_int(self.scope, "after"))
        heartbeat.add(tenant_id, CHAT, chat_id)

    async def disconnect(self, code: int) -> None:
        if self.chat_id is not None:
            await self.stream_close()
            heartbeat.discard(self.tenant_id, CHAT, self.chat_id)
            await _call(self.tenant_id, self.chat_id, "disconnected")

    async def receive_json(self, content, **kwargs) -> None:
        if self.chat_id is None or not isinstance(content, dict):
            return
        if await self.stream_command(content):
            return
        kind = content.get("type")
        ref = content.get("ref")
        if kind == "message":
            # The counter lives in the shared cache (Redis): counted off the event loop, like database work.
            if await sync_to_async(widgets.rate_limit_hit)(bucket=f"msg:{self.visitor_key}",
                                                          limit=MESSAGES_PER_WINDOW,
                                                          window_seconds=MESSAGE_WINDOW_SECONDS):
                await self._error("rate_limited", f"You are sending messages too fast: at most "
                                  f"{MESSAGES_PER_WINDOW} every {MESSAGE_WINDOW_SECONDS} seconds.", ref)
                return
            body = content.get("body")
            try:
                result = await _call(self.tenant_id, self.chat_id, "message",
                                     body=body if isinstance(body, str) else "")
            except ApplicationError as exc:
                await self._error(exc.code, exc.message, ref)
                return
            await self.send_json({"type": "sent", "ref": ref, "message_id": result["message_id"]})
        elif kind == "leave":
            await _call(self.tenant_id, self.chat_id, "leave")
            await self.send_json({"type": "left"})
            await self.close(code=1000)
        else:
            await self._error("unknown_command", "Unknown command.", ref)

    async def _error(self, code: str, message: str, ref) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, "ref": ref})
