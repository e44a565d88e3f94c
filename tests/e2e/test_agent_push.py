"""The agent's live page in a real browser: offers ring in without a reload and are answered from the panel,
a status set in one tab shows in the others, and a dropped socket catches up exactly once."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from helpdesk.tenancy import tenant_context
from routing import services as routing_services
from routing.models import RoutingItem
from tests.factories import TenantWorld
from tickets import services as ticket_services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

# Keeps a handle on the page's sockets and, while window.__refuseSockets is set, points new ones at a closed
# port: the page then sees real failed connections, as when the server is unreachable.
SOCKET_HANDLE = """
(() => {
  const Real = window.WebSocket;
  window.__sockets = [];
  window.__refuseSockets = false;
  function Socket(url, protocols) {
    const socket = new Real(window.__refuseSockets ? "ws://127.0.0.1:9/" : url, protocols);
    window.__sockets.push(socket);
    return socket;
  }
  Socket.prototype = Real.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach((name) => { Socket[name] = Real[name]; });
  window.WebSocket = Socket;
})();
"""


def _wait_until_streaming(page: Page) -> None:
    page.wait_for_function("window.Helpdesk && window.Helpdesk.push.connected()")


def _route_now(world: TenantWorld, ticket: Ticket) -> None:
    """What the routing worker does once the ticket's task arrives."""
    with tenant_context(world.tenant):
        item = RoutingItem.objects.get(ticket=ticket)
        routing_services.item_route(item_id=item.pk)


def _assignee_id(world: TenantWorld, ticket: Ticket) -> int | None:
    with tenant_context(world.tenant):
        return Ticket.objects.get(pk=ticket.pk).assignee_id


def test_a_routed_chat_rings_within_a_second_and_is_accepted_from_the_panel(acme, page: Page, sign_in):
    sign_in(page, "agent1@acme.test")
    _wait_until_streaming(page)
    page.evaluate("window.__samePage = true")
    ticket = acme.ticket(channel="chat", subject="Where is my parcel?", body="It was due yesterday.")

    _route_now(acme, ticket)
    routed_at = time.monotonic()

    offer = page.locator(f'[data-ringing] [data-code="{ticket.code}"]')
    expect(offer).to_be_visible(timeout=1000)
    assert time.monotonic() - routed_at < 1.0
    expect(page.get_by_role("heading", name="Ringing for you")).to_be_visible()
    expect(offer).to_contain_text("Where is my parcel?")
    expect(offer).to_contain_text("It was due yesterday.")
    expect(offer.locator("[data-countdown]")).to_contain_text("s left")
    expect(page.locator("[data-ringing-announce]")).to_contain_text(f"Chat ringing: {ticket.code}")

    accept = page.get_by_role("button", name=f"Accept {ticket.code}")
    accept.focus()
    page.keyboard.press("Enter")

    expect(offer).to_have_count(0)
    expect(page.locator("[data-ringing]")).to_be_hidden()
    expect(page.locator(".toast")).to_contain_text(f"Ticket {ticket.code} is yours.")
    assert _assignee_id(acme, ticket) == acme.agents[0].pk
    # A chat is taken over by the chat panel: the page stayed where it was, without a reload.
    assert page.evaluate("window.__samePage") is True


def test_an_email_ticket_accepted_from_the_panel_opens_the_ticket(acme, page: Page, sign_in):
    with tenant_context(acme.tenant):
        routing_services.settings_update(actor=acme.admin, auto_assign_tickets=True)
    sign_in(page, "agent1@acme.test")
    _wait_until_streaming(page)
    ticket = acme.ticket(subject="Refund for order 1234")

    _route_now(acme, ticket)
    page.get_by_role("button", name=f"Accept {ticket.code}").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Refund for order 1234")
    assert page.url.endswith(f"/tickets/{ticket.code}/")
    assert _assignee_id(acme, ticket) == acme.agents[0].pk


def test_a_ticket_declined_from_the_panel_leaves_it(acme, page: Page, sign_in):
    sign_in(page, "agent1@acme.test")
    _wait_until_streaming(page)
    ticket = acme.ticket(channel="chat")
    _route_now(acme, ticket)

    page.get_by_role("button", name=f"Decline {ticket.code}").click()

    expect(page.locator("[data-ringing]")).to_be_hidden()
    expect(page.locator(".toast")).to_contain_text("Declined: it goes to the next agent.")
    assert _assignee_id(acme, ticket) is None


def test_a_status_set_in_one_tab_shows_in_the_agents_other_tab(acme, page: Page, sign_in):
    sign_in(page, "agent1@acme.test")
    other_tab = page.context.new_page()
    other_tab.goto(page.url)
    _wait_until_streaming(page)
    _wait_until_streaming(other_tab)
    page.evaluate("window.__samePage = true")

    page.get_by_label("Your status").select_option("away")

    expect(other_tab.get_by_label("Your status")).to_have_value("away")
    expect(other_tab.locator("[data-presence-dot]")).to_have_class("presence__dot presence__dot--away")
    expect(other_tab.locator(".toast")).to_contain_text("Your status is now Away.")
    expect(page.locator("[data-presence-dot]")).to_have_class("presence__dot presence__dot--away")
    assert page.evaluate("window.__samePage") is True  # switched without a reload
    with tenant_context(acme.tenant):
        from departments.models import AgentProfile

        assert AgentProfile.objects.get(pk=acme.agents[0].pk).status == "away"


def test_an_event_published_while_the_socket_was_down_arrives_once_after_reconnecting(acme, page: Page, sign_in):
    page.add_init_script(SOCKET_HANDLE)
    sign_in(page, "agent1@acme.test")
    _wait_until_streaming(page)
    page.evaluate("""() => {
      window.__seen = [];
      window.Helpdesk.push.on("ticket.assigned", (event) => window.__seen.push(event.seq));
    }""")
    ticket = acme.ticket(subject="Parcel lost")

    page.evaluate("() => { window.__refuseSockets = true; window.__sockets[window.__sockets.length - 1].close(); }")
    page.wait_for_function("!window.Helpdesk.push.connected()")
    with tenant_context(acme.tenant):
        ticket_services.ticket_update(actor=acme.admin, ticket=ticket, assignee=acme.agents[0])
    page.wait_for_timeout(300)  # a retry or two fails meanwhile
    assert page.evaluate("window.__seen") == []
    page.evaluate("window.__refuseSockets = false")

    page.wait_for_function("window.__seen.length === 1")
    toast = page.locator(".toast")
    expect(toast).to_contain_text(f"Acme Owner assigned {ticket.code} to you: Parcel lost")
    expect(toast.get_by_role("link", name=f"Open {ticket.code}")).to_have_attribute(
        "href", f"/tickets/{ticket.code}/")
    # The server sends everything again when asked from the start: the page still shows it once.
    page.evaluate("""() => window.__sockets[window.__sockets.length - 1].send(
      JSON.stringify({type: "sync", after: 0}))""")
    page.wait_for_timeout(500)
    assert len(page.evaluate("window.__seen")) == 1
    expect(toast).to_have_count(1)
