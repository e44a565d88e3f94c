"""Pushes to browsers that are never lost: persisted with a per-stream sequence number, then sent as a hint.

A stream is one recipient's ordered list of events: ``agent:<agent id>`` for an agent's tabs, ``chat:<ticket
id>`` for the visitor of a chat. The channel layer delivers at most once, so every event is first written to
``PushEvent`` in the caller's transaction; only after commit is it sent to the stream's group. A client keeps
the last sequence number it has seen and asks for everything after it when it (re)connects or notices a gap.

Lower apps publish through here; ``channels_app`` only delivers. Nothing here knows what an event means.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.utils import timezone

from helpdesk.models import PushEvent, PushStream
from helpdesk.tenancy import require_active_tenant

logger = logging.getLogger(__name__)

# Event types. Agents' streams:
OFFER_RINGING = "offer.ringing"
OFFER_WITHDRAWN = "offer.withdrawn"
CHAT_ASSIGNED = "chat.assigned"
CHAT_MESSAGE = "chat.message"
CHAT_VISITOR_LEFT = "chat.visitor_left"
CHAT_ENDED = "chat.ended"
TICKET_ASSIGNED = "ticket.assigned"
TICKET_TRANSFERRED = "ticket.transferred"
AGENT_STATUS_CHANGED = "agent.status_changed"
# Not persisted (the latest value is all that matters, and a page load reads it fresh):
COUNTERS_CHANGED = "counters.changed"
# A visitor's chat stream:
VISITOR_AGENT_JOINED = "chat.agent_joined"
VISITOR_MESSAGE = "chat.message"
VISITOR_CHAT_ENDED = "chat.ended"

REPLAY_LIMIT = 500


def agent_stream(agent_id: int) -> str:
    return f"agent:{agent_id}"


def chat_stream(ticket_id: int) -> str:
    return f"chat:{ticket_id}"


def stream_group(tenant_id: int, stream: str) -> str:
    """The channel-layer group of a stream: one per recipient, never shared across tenants."""
    return f"push.{tenant_id}.{stream.replace(':', '.')}"


@dataclass(frozen=True)
class Push:
    stream: str
    type: str
    payload: dict[str, Any]


def _next_seqs(tenant_id: int, streams: Sequence[str]) -> dict[str, int]:
    """Take the next number of each stream, locking its counter row until commit.

    Streams are locked in key order, and callers publish everything a transaction sends in one call, so two
    transactions never wait on each other's counters in opposite orders.
    """
    seqs: dict[str, int] = {}
    for stream in sorted(set(streams)):
        count = sum(1 for s in streams if s == stream)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {PushStream._meta.db_table} (tenant_id, key, last_seq) VALUES (%s, %s, %s) "
                    f"ON CONFLICT (tenant_id, key) DO UPDATE SET last_seq = "
                    f"{PushStream._meta.db_table}.last_seq + EXCLUDED.last_seq RETURNING last_seq",
                    [tenant_id, stream, count],
                )
                last = cursor.fetchone()[0]
        else:
            row, _ = PushStream.objects.select_for_update().get_or_create(key=stream, defaults={"last_seq": 0})
            row.last_seq += count
            row.save(update_fields=["last_seq"])
            last = row.last_seq
        seqs[stream] = last - count + 1
    return seqs


def publish(pushes: Iterable[Push]) -> list[PushEvent]:
    """Persist ``pushes`` in the current transaction and send them after it commits."""
    pushes = list(pushes)
    if not pushes:
        return []
    tenant = require_active_tenant()
    # No savepoint: a failed publish fails the caller's transaction, which is what keeps event and change together.
    with transaction.atomic(savepoint=False):
        seqs = _next_seqs(tenant.pk, [p.stream for p in pushes])
        now = timezone.now()
        events = []
        for push in pushes:
            events.append(PushEvent(tenant=tenant, stream=push.stream, seq=seqs[push.stream], type=push.type,
                                    payload=push.payload, created_at=now))
            seqs[push.stream] += 1
        PushEvent.objects.bulk_create(events)
        messages = [(stream_group(tenant.pk, e.stream), event_message(e)) for e in events]
        transaction.on_commit(lambda: _send(messages))
    return events


def send_transient(*, tenant_id: int, streams: Iterable[str], type: str, payload: dict[str, Any]) -> None:
    """A hint that is not worth keeping (its latest value is read fresh on every page): sent on commit only."""
    message = {"type": "push.transient", "event": {"type": type, **payload}}
    messages = [(stream_group(tenant_id, s), message) for s in set(streams)]
    transaction.on_commit(lambda: _send(messages))


def event_message(event: PushEvent) -> dict:
    return {"type": "push.event", "stream": event.stream, "event": event_json(event)}


def event_json(event: PushEvent) -> dict:
    return {"seq": event.seq, "type": event.type, "at": event.created_at.isoformat(), **event.payload}


def _send(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group, message in messages:
            try:
                await layer.group_send(group, message)
            except Exception:  # noqa: BLE001 - the event is persisted; the client fetches it on its next sync
                logger.warning("Push to %s not sent; clients will fetch it", group, exc_info=True)

    if _in_server_thread():
        # A view run by the ASGI server: send on the server's own loop, with its connections.
        async_to_sync(send_all)()
    else:
        _sender().run(send_all())


def _in_server_thread() -> bool:
    return getattr(SyncToAsync.threadlocal, "main_event_loop", None) is not None


class _Sender:
    """One event loop per process, in a daemon thread, for pushes sent from workers and commands.

    ``async_to_sync`` outside a server makes a new loop per call, and the Redis layer a new connection per loop:
    about 9 ms per push. This keeps one loop, so the layer's connection is reused.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pid = os.getpid()
        threading.Thread(target=self.loop.run_forever, name="push-sender", daemon=True).start()

    def run(self, coroutine: Any, timeout: float = 5.0) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            future.result(timeout=timeout)
        except Exception:  # noqa: BLE001 - persisted already: a client's next sync delivers it
            future.cancel()
            logger.warning("Pushes not sent in time; clients will fetch them", exc_info=True)


_sender_instance: _Sender | None = None
_sender_lock = threading.Lock()


def _sender() -> _Sender:
    global _sender_instance
    with _sender_lock:
        # A forked worker process inherits the object but not the thread: start its own.
        if _sender_instance is None or _sender_instance.pid != os.getpid():
            _sender_instance = _Sender()
        return _sender_instance


# --- reads ------------------------------------------------------------------------------------------------

def events_after(*, stream: str, after: int, limit: int = REPLAY_LIMIT) -> list[PushEvent]:
    return list(PushEvent.objects.filter(stream=stream, seq__gt=after).order_by("seq")[:limit])


def stream_position(*, stream: str) -> int:
    """The stream's last sequence number: where a freshly rendered page starts listening."""
    return PushStream.objects.filter(key=stream).values_list("last_seq", flat=True).first() or 0


def events_prune(*, older_than: timedelta = timedelta(days=2), now: datetime | None = None) -> int:
    """Forget events no client can still be waiting for (a page older than this reloads its state)."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = PushEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
