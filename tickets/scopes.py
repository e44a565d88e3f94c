"""Inbox scopes: the inbox narrowed to a set of tickets that a higher app defines, without tickets importing it.

A report figure's drill-down is one: `reports` registers a provider under the name of the query parameter that
carries the figure (``?report=...``) in its AppConfig.ready. The inbox hands the parameter's value to the
provider, which answers with the tickets (a Q the database evaluates, e.g. ``pk__in`` a subquery, so no list of
ids passes through Python and there is no limit) and what the banner above the list says. The inbox applies its
own visibility, views, filters, sorting and paging on top, and keeps the parameter through all of them.

A provider raises ApplicationError for a value it cannot read (the inbox shows the message with status 400) and
NotFound for one naming something the member may not see (404).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.db.models import Q

from helpdesk.principals import Actor


@dataclass(frozen=True)
class InboxScope:
    tickets: Q
    title: str  # what the tickets are, in a few words
    summary: str  # a sentence or two: how many, and how to read them
    ticket_count: int | None = None
    back_url: str = ""  # where the scope came from
    back_label: str = ""
    # Filled in by inbox_scope_get: the query parameter that carries the scope, kept by filters and paging.
    param: str = ""
    value: str = ""

    @property
    def query(self) -> str:
        return urlencode({self.param: self.value})


Provider = Callable[..., InboxScope]  # provider(*, actor: Actor, value: str) -> InboxScope

_providers: dict[str, Provider] = {}


def register(param: str, provider: Provider) -> None:
    _providers[param] = provider


def inbox_scope_get(*, actor: Actor, params: Mapping[str, str]) -> InboxScope | None:
    """The scope the inbox's query string asks for, or None for the whole inbox."""
    for param, provider in _providers.items():
        value = params.get(param)
        if value:
            return replace(provider(actor=actor, value=value), param=param, value=value)
    return None
