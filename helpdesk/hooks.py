"""Named hooks through which a lower app lets a higher one react, without importing it.

Apps depend downward only (helpdesk <- departments <- tickets <- routing <- reports), yet a ticket created in
`tickets` must reach routing, and an agent coming online in `departments` frees capacity routing can use.
The lower app fires a hook inside its transaction; the higher app registers a receiver in its AppConfig and
defers anything that leaves the process with transaction.on_commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

TICKET_CREATED = "ticket_created"  # ticket
# ticket, changed: set of field names, previous_assignee_id, previous_department_id, pushes
TICKET_UPDATED = "ticket_updated"
MESSAGE_ADDED = "message_added"  # ticket, message (a customer message, reply or note added to a ticket)
AGENT_UPDATED = "agent_updated"  # agent, changed: set of field names, previous: dict of old values, pushes
# ``pushes`` is the firing service's list of helpdesk.push.Push: a receiver appends to it instead of publishing,
# because a transaction publishes everything in one call (stream counters are locked in one order).

_receivers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def connect(name: str, receiver: Callable[..., None]) -> None:
    if receiver not in _receivers[name]:
        _receivers[name].append(receiver)


def fire(name: str, **kwargs) -> None:
    for receiver in _receivers[name]:
        receiver(**kwargs)
