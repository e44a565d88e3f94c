"""Chat fixtures: a widget per tenant, a visitor's chat, and routing it to an agent as the worker would."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from helpdesk.tenancy import tenant_context
from routing import chats, services, widgets
from routing.models import Chat, ChatWidget, Offer, OfferState, RoutingItem
from tests.factories import TenantWorld

SHOP = "https://shop.example"


@dataclass
class StartedChat:
    world: TenantWorld
    chat: Chat
    token: str

    @property
    def ticket_id(self) -> int:
        return self.chat.ticket_id


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def widget_for(world: TenantWorld, *, department=None, origins=(SHOP,), name="Website") -> ChatWidget:
    with tenant_context(world.tenant):
        return widgets.widget_create(actor=world.admin, name=name, department=department,
                                     allowed_origins=list(origins))


@pytest.fixture
def widget(acme) -> ChatWidget:
    """acme's website widget, serving the Support department (Agent 1 is its only member)."""
    return widget_for(acme, department=acme.department)


@pytest.fixture
def globex_widget(globex) -> ChatWidget:
    return widget_for(globex, department=globex.department)


def start_chat(world: TenantWorld, widget: ChatWidget, message: str = "Hello, is anyone there?",
               **visitor) -> StartedChat:
    with tenant_context(world.tenant):
        chat, token = chats.chat_start(widget=widget, message=message, **visitor)
    return StartedChat(world=world, chat=chat, token=token)


def route_and_accept(started: StartedChat, agent=None) -> None:
    """Route the chat's item now and let the ringing agent accept it."""
    world = started.world
    with tenant_context(world.tenant):
        item = RoutingItem.objects.get(ticket_id=started.ticket_id)
        services.item_route(item_id=item.pk)
        offer = Offer.objects.get(item=item, state=OfferState.RINGING)
        assert agent is None or offer.agent_id == agent.pk
        from departments.models import AgentProfile

        ringing_agent = AgentProfile.objects.get(pk=offer.agent_id)
        services.offer_accept(actor=world.actor_of(ringing_agent), offer_id=offer.pk)
        started.chat.refresh_from_db()


def fresh_chat(world: TenantWorld, started: StartedChat) -> Chat:
    with tenant_context(world.tenant):
        return Chat.objects.select_related("ticket__contact", "ticket__assignee").get(pk=started.chat.pk)
