"""Canned responses from the reply box, in a real browser: "/" and a shortcut, or the search list."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from departments import replies
from helpdesk.tenancy import tenant_context
from tickets.services import ContactData

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_inserts_canned_responses_by_slash_shortcut_and_by_search(acme, page: Page, sign_in):
    with tenant_context(acme.tenant):
        replies.canned_response_create(actor=acme.admin, shortcut="hello", title="Greeting",
                                       body="Hello {{customer_name}}, this is {{agent_name}}.")
        replies.canned_response_create(actor=acme.admin, shortcut="bye", title="Closing words",
                                       body="Kind regards")
    ticket = acme.ticket(contact=ContactData(name="Dana Doe", email="dana@example.com"))
    sign_in(page, "agent1@acme.test")
    page.goto(page.url + f"tickets/{ticket.code}/")

    reply = page.locator("#reply-form").get_by_label("Message")
    reply.click()
    reply.press_sequentially("Hi! /hel")
    options = page.locator(".canned__list [role=option]")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("/hello Greeting")
    reply.press("Enter")
    expect(reply).to_have_value("Hi! Hello Dana Doe, this is Acme Agent 1.")

    page.get_by_label("Canned response").fill("closing")
    page.locator(".canned__list [role=option]", has_text="Closing words").click()
    expect(reply).to_have_value("Hi! Hello Dana Doe, this is Acme Agent 1.Kind regards")

    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".message--reply")).to_contain_text("Hello Dana Doe, this is Acme Agent 1.")
