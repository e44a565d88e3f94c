"""What agents and admins do every day, in a real browser against a real server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from departments import services as department_services
from departments.models import DepartmentMember
from helpdesk.tenancy import tenant_context
from tests.factories import PASSWORD, TenantWorld
from tickets import services as ticket_services
from tickets.models import EventKind, Ticket, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _ticket(world: TenantWorld, code: str) -> Ticket:
    with tenant_context(world.tenant):
        return Ticket.objects.select_related("department", "assignee").get(code=code)


def test_agent_signs_in_opens_a_ticket_replies_and_adds_a_note(acme, page: Page, sign_in):
    ticket = acme.ticket(subject="Printer on fire", body="Smoke is coming out of the tray.")
    sign_in(page, "agent1@acme.test")
    row = page.locator(f'tr[data-ticket="{ticket.code}"]')
    expect(row).to_contain_text("Printer on fire")

    row.get_by_role("link", name="Printer on fire").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Printer on fire")
    expect(page.locator(".conversation")).to_contain_text("Smoke is coming out of the tray.")

    page.get_by_label("Message").first.fill("Please unplug it and step away.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Reply sent.")
    reply = page.locator(".message--reply")
    expect(reply).to_contain_text("Please unplug it and step away.")
    expect(reply).to_contain_text("Acme Agent 1")

    page.get_by_text("Add an internal note").click()
    page.locator("#note-form").get_by_label("Message").fill("Customer may need a new printer.")
    page.get_by_role("button", name="Add note").click()
    note = page.locator(".message--note")
    expect(note).to_contain_text("Customer may need a new printer.")
    expect(note.locator(".badge--internal")).to_have_text("Internal note")
    log = page.locator(".log")
    expect(log).to_contain_text("Acme Agent 1 replied to the customer")
    expect(log).to_contain_text("Acme Agent 1 added an internal note")
    assert _ticket(acme, ticket.code).status == "answered"


def test_admin_transfers_a_ticket_to_another_department(acme, page: Page, sign_in):
    with tenant_context(acme.tenant):
        department_services.department_create(actor=acme.admin, name="Billing")
    ticket = acme.ticket(subject="Invoice shows the wrong VAT")
    sign_in(page, "owner@acme.test")
    page.goto(page.url + f"tickets/{ticket.code}/")

    page.get_by_label("Department").select_option(label="Billing")
    page.get_by_label("Assignee").select_option(label="Acme Agent 2")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Ticket updated.")
    expect(page.locator(".log")).to_contain_text(
        "Acme Owner transferred from Support to Billing and assigned it to Acme Agent 2"
    )
    moved = _ticket(acme, ticket.code)
    assert (moved.department.name, moved.assignee.display_name) == ("Billing", "Acme Agent 2")


def test_postpone_date_appears_only_for_status_postponed(acme, page: Page, sign_in):
    ticket = acme.ticket()
    sign_in(page, "agent1@acme.test")
    page.goto(page.url + f"tickets/{ticket.code}/")
    postpone = page.get_by_label("Postponed until")
    expect(postpone).to_be_hidden()
    page.get_by_label("Status", exact=True).select_option("postponed")
    expect(postpone).to_be_visible()
    postpone.fill("2031-05-04T10:00")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".log")).to_contain_text("postponed the ticket until 4 May 2031, 10:00")


def test_taking_from_to_solve_makes_the_agent_the_owner_and_tells_the_next_one(
    acme, page: Page, second_context, sign_in
):
    with tenant_context(acme.tenant):
        department_services.department_member_add(actor=acme.admin, department=acme.department,
                                                  agent=acme.agents[1])
    ticket = acme.ticket(subject="Two-factor codes not arriving")
    other = sign_in(second_context.new_page(), "agent2@acme.test")
    other.get_by_role("link", name="To solve").click()
    expect(other.locator(f'tr[data-ticket="{ticket.code}"]')).to_be_visible()

    sign_in(page, "agent1@acme.test")
    page.get_by_role("link", name="To solve").click()
    page.get_by_role("button", name="Two-factor codes not arriving").click()
    expect(page.get_by_role("status")).to_contain_text("You now own this ticket")
    expect(page).to_have_url(re.compile(f"/tickets/{ticket.code}/$"))
    assert _ticket(acme, ticket.code).assignee.display_name == "Acme Agent 1"

    # The second agent's list is stale: opening the ticket now tells them who has it.
    other.get_by_role("button", name="Two-factor codes not arriving").click()
    expect(other.get_by_role("status")).to_contain_text(f"Acme Agent 1 has already taken ticket {ticket.code}")
    with tenant_context(acme.tenant):
        assert TicketEvent.objects.filter(ticket__code=ticket.code, kind=EventKind.ASSIGNED).count() == 1
    page.goto(page.url.split("/tickets/")[0] + "/?view=to_solve")
    expect(page.locator(f'tr[data-ticket="{ticket.code}"]')).to_have_count(0)


def test_admin_creates_a_department_and_adds_all_agents(acme, page: Page, sign_in):
    sign_in(page, "owner@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Departments")
    page.get_by_role("link", name="New department").click()
    page.get_by_label("Name").fill("Partnerships")
    page.get_by_label("Support email").fill("partners@acme.test")
    page.get_by_role("button", name="Create department").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partnerships")

    page.get_by_role("button", name="Add all agents").click()
    expect(page.get_by_role("status")).to_contain_text("3 agents added to Partnerships.")
    expect(page.locator(".member-list .badge--member")).to_have_count(3)
    with tenant_context(acme.tenant):
        assert DepartmentMember.objects.filter(department__name="Partnerships").count() == 3

    # "Remove all" asks first; declining keeps everyone.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Remove all").click()
    expect(page.locator(".member-list .badge--member")).to_have_count(3)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove all").click()
    expect(page.get_by_role("status")).to_contain_text("3 agents removed from Partnerships.")
    expect(page.locator(".member-list .badge--member")).to_have_count(0)

    page.get_by_role("button", name="Add Acme Agent 2 to Partnerships").click()
    expect(page.locator(".member-list .badge--member")).to_have_count(1)
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Departments").click()
    row = page.locator("tr", has_text="Partnerships")
    expect(row.locator('td[data-label="Agents"]')).to_have_text("1")


def test_presence_and_take_work_without_javascript(acme, browser, live_url):
    ticket = acme.ticket(subject="Works without scripts")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_url("/login/"))
        page.get_by_label("Email").fill("agent1@acme.test")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Your status").select_option("away")
        page.get_by_role("button", name="Set").click()
        expect(page.get_by_role("status")).to_contain_text("Your status is now Away.")
        page.get_by_role("link", name="To solve").click()
        page.get_by_role("button", name="Works without scripts").click()
        expect(page.get_by_role("status")).to_contain_text("You now own this ticket")
    finally:
        context.close()
    assert _ticket(acme, ticket.code).assignee.display_name == "Acme Agent 1"


def test_keyboard_users_can_skip_to_the_content(acme, page: Page, sign_in):
    sign_in(page, "agent1@acme.test")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 812)])
def test_pages_do_not_overflow_sideways(acme, page: Page, sign_in, width, height):
    page.set_viewport_size({"width": width, "height": height})
    # Long unbroken words (pasted references, URLs) are what usually push a layout sideways.
    long_subject = "A very long subject line " * 4 + "order-reference-" + "X" * 60
    ticket = acme.ticket(subject=long_subject, tags=["enterprise-customer", "needs-callback", "vip"],
                         contact=ticket_services.ContactData(name="Wolfeschlegelsteinhausenbergerdorff",
                                                             email=f"{'very.long.address' * 3}@example.com"))
    for _ in range(3):
        acme.ticket()
    sign_in(page, "owner@acme.test")
    base = page.url
    for path in ["", "?view=to_solve", f"tickets/{ticket.code}/", "settings/departments/", "settings/agents/",
                 "settings/api-keys/", "tickets/new/"]:
        page.goto(base + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path or 'inbox'} is {overflow}px too wide at {width}px"
