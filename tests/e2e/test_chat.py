"""Live chat in real browsers: a visitor on the demo page and agents on their pages, with a real routing worker.

Routing runs as in production: the server queues a task on Redis when the chat starts and a Celery worker (with
beat, for ring-outs) decides and rings; pushes travel through the Redis channel layer to the agents' sockets.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Page, expect

from departments import services as department_services
from departments.models import AgentProfile
from helpdesk.tenancy import tenant_context
from routing import services as routing_services
from routing import widgets
from routing.models import AgentPresence, Chat, Offer, OfferState
from tickets.models import Channel, Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def routing_worker(app_server, tmp_path_factory) -> Iterator[None]:
    """A Celery worker with beat on the test database, ticking every second so ring-outs move on quickly."""
    from helpdesk.celery import app

    db = connections["default"].settings_dict
    workdir = tmp_path_factory.mktemp("routing-worker")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings.DATABASE_APP_ROLE}@{db['HOST'] or '127.0.0.1'}:"
                        f"{db['PORT'] or 5432}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",
        "ROUTING_RECONCILE_SECONDS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    app.control.purge()  # tasks queued by earlier tests for databases long gone
    log = workdir / "worker.log"
    with log.open("w") as log_file:
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "helpdesk", "worker", "--beat", "-P", "solo",
             "--schedule", str(workdir / "beat-schedule"), "-Q", "celery", "--without-heartbeat",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        assert worker.poll() is None, log.read_text()
        time.sleep(0.2)
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)


@pytest.fixture
def demo_widget(acme, app_server):
    with tenant_context(acme.tenant):
        return widgets.widget_create(actor=acme.admin, name="Website", department=acme.department,
                                     allowed_origins=[app_server])


def agent_page(page: Page, sign_in, world, email: str) -> Page:
    sign_in(page, email)
    # Listening before the visitor writes: the server has counted the agent's socket.
    with tenant_context(world.tenant):
        agent = AgentProfile.objects.get(user__email=email)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with tenant_context(world.tenant):
            if AgentPresence.objects.filter(agent=agent, open_connections__gt=0).exists():
                return page
        time.sleep(0.1)
    raise AssertionError(f"{email}'s page never opened its socket")


def open_widget(page: Page, live_url, key: str) -> Page:
    page.goto(live_url(f"/widget/demo/?key={key}"))
    page.get_by_role("button", name="Chat with us").click()
    return page


def start(visitor: Page, name: str, message: str) -> None:
    visitor.get_by_label("Your name (optional)").fill(name)
    visitor.get_by_label("How can we help?").fill(message)
    visitor.get_by_role("button", name="Start chat").click()


def chat_ticket(world) -> Ticket:
    with tenant_context(world.tenant):
        return Ticket.objects.get(channel=Channel.CHAT)


def ringing_chat(page: Page):
    return page.locator('[data-ringing] [data-channel="chat"]').get_by_role("button", name=re.compile("^Accept"))


def test_a_visitor_chats_with_an_agent_who_ends_it_and_the_transcript_is_on_the_ticket(
    acme, demo_widget, routing_worker, page: Page, second_context, sign_in, live_url,
):
    agent = agent_page(page, sign_in, acme, "agent1@acme.test")
    visitor = open_widget(second_context.new_page(), live_url, demo_widget.key)
    start(visitor, "Vera Visitor", "Hello, my parcel is missing")
    expect(ringing_chat(agent)).to_be_visible(timeout=1000)
    ticket = chat_ticket(acme)

    ringing_chat(agent).click()
    panel = agent.get_by_role("complementary", name="Your chats")
    chat = panel.get_by_role("article", name="Chat with Vera Visitor")
    expect(chat.get_by_role("log")).to_contain_text("Hello, my parcel is missing")
    transcript = visitor.get_by_role("log", name="Chat transcript")
    expect(transcript).to_contain_text("Acme Agent 1 joined the chat.")

    visitor.get_by_label("Type your message").fill("Order 4711, sent last week")
    visitor.get_by_role("button", name="Send").click()
    expect(chat.get_by_role("log")).to_contain_text("Order 4711, sent last week")
    chat.get_by_label("Reply to Vera Visitor").fill("Found it: it arrives tomorrow.")
    chat.get_by_role("button", name="Send").click()
    expect(transcript).to_contain_text("Found it: it arrives tomorrow.")

    chat.get_by_role("button", name="End chat").click()
    expect(transcript).to_contain_text("The chat has ended.")
    expect(visitor.get_by_label("Type your message")).to_be_hidden()
    with tenant_context(acme.tenant):
        ended = Chat.objects.select_related("ticket").get(ticket=ticket)
        assert ended.ticket.status == Status.RESOLVED and ended.accepted_at and ended.ended_at

    agent.goto(live_url(f"/tickets/{ticket.code}/"))
    conversation = agent.locator(".conversation")
    for text in ("Hello, my parcel is missing", "Order 4711, sent last week", "Found it: it arrives tomorrow."):
        expect(conversation).to_contain_text(text)
    log = agent.locator(".log")
    expect(log).to_contain_text("Vera Visitor started a chat from the Website widget")
    expect(log).to_contain_text("Acme Agent 1 ended the chat after")


def test_a_chat_that_rings_out_moves_on_to_the_next_agent(
    acme, demo_widget, routing_worker, page: Page, browser, second_context, sign_in, live_url,
):
    first, second = acme.agents
    with tenant_context(acme.tenant):
        department_services.department_member_add(actor=acme.admin, department=acme.department, agent=second)
        # Priority rings the first agent alone, then the next one once it has rung out.
        department_services.agent_update(actor=acme.admin, agent=first, chat_priority=1)
        routing_services.settings_update(actor=acme.admin, chat_method="priority", ring_seconds=5)
    first_page = agent_page(page, sign_in, acme, "agent1@acme.test")
    second_context_agent = browser.new_context()
    try:
        second_page = agent_page(second_context_agent.new_page(), sign_in, acme, "agent2@acme.test")
        visitor = open_widget(second_context.new_page(), live_url, demo_widget.key)
        start(visitor, "Rita Ringout", "Anyone there?")
        expect(ringing_chat(first_page)).to_be_visible(timeout=1000)
        expect(ringing_chat(second_page)).to_have_count(0)

        # Nobody answers: after the ring time the offer is missed and the second agent is rung.
        expect(ringing_chat(second_page)).to_be_visible(timeout=12_000)
        expect(ringing_chat(first_page)).to_have_count(0)
        ringing_chat(second_page).click()
        chat = second_page.get_by_role("article", name="Chat with Rita Ringout")
        expect(chat.get_by_role("log")).to_contain_text("Anyone there?")
        expect(visitor.get_by_role("log", name="Chat transcript")).to_contain_text("Acme Agent 2 joined the chat.")
    finally:
        second_context_agent.close()
    ticket = chat_ticket(acme)
    with tenant_context(acme.tenant):
        states = dict(Offer.objects.filter(item__ticket=ticket).values_list("agent_id", "state"))
        assert states == {first.pk: OfferState.MISSED, second.pk: OfferState.ACCEPTED}
        assert Ticket.objects.get(pk=ticket.pk).assignee_id == second.pk
