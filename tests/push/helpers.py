"""Reading what was pushed: the persisted events of a stream, and how many times a block published."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from helpdesk import push
from helpdesk.models import PushEvent
from helpdesk.tenancy import tenant_context
from tests.factories import TenantWorld


def events(world: TenantWorld, agent_id: int) -> list[PushEvent]:
    """The agent's stream, oldest first."""
    with tenant_context(world.tenant):
        return list(PushEvent.objects.filter(stream=push.agent_stream(agent_id)).order_by("seq"))


def types(world: TenantWorld, agent_id: int) -> list[str]:
    return [event.type for event in events(world, agent_id)]


@contextmanager
def publishes(monkeypatch) -> Iterator[list[list[push.Push]]]:
    """Record every non-empty publish() call (the real one still runs): a transaction should make one."""
    calls: list[list[push.Push]] = []
    real = push.publish

    def recording(pushes):
        pushes = list(pushes)
        if pushes:
            calls.append(pushes)
        return real(pushes)

    monkeypatch.setattr(push, "publish", recording)
    yield calls
