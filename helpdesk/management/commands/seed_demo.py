"""Demo data for `make run`: two companies with departments, agents and a few hundred tickets.

Idempotent: a company that already exists is left as it is. Each run issues a fresh demo API key per company
(keys are stored hashed, so the previous one cannot be printed again) and revokes the previous demo key.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from departments import services as department_services
from helpdesk import services as helpdesk_services
from helpdesk.models import ApiKey, Membership, Role, Tenant
from helpdesk.principals import actor_for_membership
from helpdesk.tenancy import tenant_context
from tickets import services as ticket_services
from tickets.models import Channel, MessageKind, Status

DEMO_PASSWORD = "demo-pass-2026"
DEMO_KEY_NAME = "Demo key"
SHARED_LEAD_EMAIL = "sam@demo.test"
DEMO_WIDGET_NAME = "Website"
# `make run` serves on port 8000 of either name; the widget only opens on the sites it lists.
DEMO_WIDGET_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]

COMPANIES = {
    "acme": {
        "name": "Acme Corporation",
        "time_zone": "Europe/Berlin",
        "departments": {
            "Sales": "Quotes, orders and upgrades.",
            "Technical Support": "Installation, outages and how-to questions.",
            "Billing": "Invoices, refunds and payment methods.",
        },
        "agents": [
            ("alice", "Alice Moreau", ["Sales", "Technical Support"]),
            ("bob", "Bob Novak", ["Technical Support"]),
            ("carol", "Carol Dubois", ["Billing"]),
            ("dave", "Dave Okafor", ["Technical Support", "Billing"]),
            ("erin", "Erin Walsh", ["Sales"]),
        ],
        "tickets": 300,
    },
    "globex": {
        "name": "Globex Inc.",
        "time_zone": "America/New_York",
        "departments": {
            "Support": "Everything customers need help with.",
            "Partnerships": "Resellers and integrators.",
        },
        "agents": [
            ("frank", "Frank Miller", ["Support"]),
            ("grace", "Grace Lee", ["Support", "Partnerships"]),
            ("heidi", "Heidi Braun", ["Partnerships"]),
        ],
        "tickets": 150,
    },
}

SUBJECTS = [
    "Cannot log in after password reset", "Invoice {n} shows the wrong VAT", "Request for a quote: 40 seats",
    "App crashes when exporting to PDF", "Refund for duplicate charge", "How do I add a second admin?",
    "Delivery delayed for order {n}", "API returns 502 intermittently", "Upgrade to the annual plan",
    "Two-factor codes not arriving", "Change billing address", "Feature request: dark mode",
    "Data import stuck at 90%", "Question about the enterprise SLA", "Payment method declined",
]
CUSTOMERS = [
    ("Maria Garcia", "maria.garcia@example.com"), ("Chen Wei", "chen.wei@example.org"),
    ("Olivia Smith", "olivia@smith-family.example"), ("Liam Johnson", ""), ("", "anon.buyer@example.net"),
    ("Noah Williams", "noah.w@example.com"), ("Sofia Rossi", "sofia.rossi@example.it"),
    ("Yuki Tanaka", "yuki@example.jp"), ("Ahmed Hassan", "ahmed.hassan@example.com"), ("", ""),
    ("Emma Brown", "emma.brown@example.co.uk"), ("Lucas Silva", "lucas@example.com.br"),
]
TAGS = ["vip", "bug", "refund", "onboarding", "outage", "feedback", "invoice", "urgent-followup"]
CHANNELS = [Channel.EMAIL] * 5 + [Channel.CHAT] * 3 + [Channel.CALL, Channel.CONTACT_FORM, Channel.API,
                                                       Channel.FACEBOOK, Channel.TWITTER, Channel.VIBER]


class Command(BaseCommand):
    help = "Create the demo companies (acme, globex) if missing and print demo logins and API keys."

    def handle(self, *args, **options) -> None:
        rng = random.Random(2026)
        lines = []
        for slug, spec in COMPANIES.items():
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                tenant = self._create_company(slug, spec, rng)
                self.stdout.write(f"Created demo company {spec['name']} ({slug}).")
            lines.append(self._credentials(tenant, spec))
            lines.append(self._chat_widget(tenant))
        self.stdout.write("\n".join([
            "", f"Demo logins (password for all: {DEMO_PASSWORD}):", *lines,
            f"  {SHARED_LEAD_EMAIL} is an admin of both companies (switch company in the header).", "",
        ]))

    @transaction.atomic
    def _create_company(self, slug: str, spec: dict, rng: random.Random) -> Tenant:
        tenant = helpdesk_services.tenant_create(slug=slug, name=spec["name"], time_zone=spec["time_zone"])
        with tenant_context(tenant):
            owner_user = helpdesk_services.user_get_or_create(
                email=f"admin@{slug}.test", full_name=f"{spec['name']} Admin", password=DEMO_PASSWORD
            )
            owner = Membership.objects.create(tenant=tenant, user=owner_user, role=Role.OWNER)
            department_services.agent_profile_create(
                membership=owner, display_name=f"{slug.capitalize()} Admin", status="online"
            )
            admin = actor_for_membership(owner)
            departments = {
                name: department_services.department_create(
                    actor=admin, name=name, description=description,
                    support_email=f"{name.split()[0].lower()}@{slug}.test",
                    signature=f"-- \n{name} team, {spec['name']}",
                )
                for name, description in spec["departments"].items()
            }
            # One person works for both companies, to show the company switcher.
            department_services.agent_create(
                actor=admin, email=SHARED_LEAD_EMAIL, display_name="Sam Rivera", role=Role.ADMIN,
                password=DEMO_PASSWORD, status="online",
            )
            agents = []
            for handle, full_name, member_of in spec["agents"]:
                agent = department_services.agent_create(
                    actor=admin, email=f"{handle}@{slug}.test", display_name=full_name, password=DEMO_PASSWORD,
                    status=rng.choice(["online", "online", "away", "offline"]), takes_calls=rng.random() < 0.5,
                    chat_priority=rng.choice([1, 10, 50]),
                )
                for name in member_of:
                    department_services.department_member_add(actor=admin, department=departments[name], agent=agent)
                agents.append((agent, [departments[name] for name in member_of]))
            self._business_hours_and_sla(admin, spec["time_zone"])
            self._create_tickets(tenant, spec["tickets"], list(departments.values()), agents, rng)
            # After the tickets, so seeding does not mail every demo customer an acknowledgement.
            self._templates_and_canned_responses(admin)
        return tenant

    def _business_hours_and_sla(self, admin, time_zone: str) -> None:
        from departments import business_hours

        weekdays = ("mon", "tue", "wed", "thu", "fri")
        business_hours.business_hours_create(
            actor=admin, time_zone=time_zone, out_of_hours_reply=True,
            weekly={day: [["08:00", "12:30"], ["13:30", "18:00"]] for day in weekdays},
            holidays=[{"date": "2025-12-25", "name": "Christmas Day", "recurring": True},
                      {"date": "2026-01-01", "name": "New Year's Day", "recurring": True}],
        )
        business_hours.sla_policy_create(actor=admin, name="Standard", is_default=True, targets={
            "urgent": {"first_response": 30, "next_response": 60, "resolution": 240},
            "high": {"first_response": 60, "next_response": 120, "resolution": 480},
            "medium": {"first_response": 240, "next_response": 480, "resolution": 1440},
            "low": {"first_response": 480, "next_response": 960, "resolution": 2880},
        })
        business_hours.sla_policy_create(actor=admin, name="Key accounts", customer_domains=["bigcustomer.example"],
                                         targets={p: {"first_response": 30, "resolution": 480}
                                                  for p in ("urgent", "high", "medium", "low")})

    def _templates_and_canned_responses(self, admin) -> None:
        from departments import replies

        replies.email_template_create(
            actor=admin, kind="acknowledgement", subject="[{{ticket_code}}] We received your message",
            body="Hello {{customer_name}},\n\nthank you for contacting {{department}}. We will answer "
                 "{{expected_response}} (by {{sla_due}}).\n\n{{signature}}",
        )
        replies.email_template_create(
            actor=admin, kind="out_of_hours", subject="[{{ticket_code}}] We are closed right now",
            body="Hello {{customer_name}},\n\nwe received your message outside our business hours and will "
                 "answer after we open: {{next_opening}}.\n\n{{signature}}",
        )
        replies.canned_response_create(actor=admin, shortcut="thanks", title="Thanks for waiting",
                                       body="Hello {{customer_name}}, thank you for your patience.")
        replies.canned_response_create(actor=admin, shortcut="restart", title="Restart the device",
                                       body="Could you switch the device off for 30 seconds and on again?")

    def _create_tickets(self, tenant, count, departments, agents, rng: random.Random) -> None:
        now = timezone.now()
        for n in range(count):
            created = now - timedelta(minutes=rng.randint(5, 60 * 24 * 60))
            name, email = rng.choice(CUSTOMERS)
            phone = f"+1 555 01{rng.randint(10, 99)}" if not email else ""
            department = rng.choice(departments + [None]) if rng.random() < 0.95 else None
            ticket = ticket_services.ticket_create(
                actor=None, subject=rng.choice(SUBJECTS).format(n=10000 + n), created_at=created,
                body="Hello,\n\nI need help with this, please.\n\nThanks", channel=rng.choice(CHANNELS),
                priority=rng.choice([1, 2, 2, 2, 3, 3, 4]), department=department,
                contact=ticket_services.ContactData(name=name, email=email, phone=phone),
                tags=rng.sample(TAGS, k=rng.choice([0, 0, 1, 2])),
            )
            fate = rng.random()
            if fate < 0.25:
                continue  # still new and unassigned: the To solve queue
            candidates = [a for a, member_of in agents if department is None or department in member_of]
            agent = rng.choice(candidates or [a for a, _ in agents])
            actor = actor_for_membership(agent.membership)
            ticket_services.ticket_update(actor=actor, ticket=ticket, assignee=agent)
            ticket_services.message_add(
                actor=actor, ticket=ticket, kind=MessageKind.REPLY,
                body=f"Hi,\n\nthanks for reaching out. I'm looking into it.\n\n{agent.display_name}",
                at=created + timedelta(minutes=rng.randint(2, 240)),
            )
            if fate < 0.45:
                continue  # answered, waiting on the customer
            ticket_services.message_add(actor=None, ticket=ticket, kind=MessageKind.CUSTOMER,
                                        body="Thanks, any news?")
            if rng.random() < 0.3:
                ticket_services.message_add(actor=actor, ticket=ticket, kind=MessageKind.NOTE,
                                            body="Checked the logs: looks like a known issue.")
            if fate < 0.6:
                continue  # open again
            final = rng.choice([Status.RESOLVED, Status.RESOLVED, Status.RESOLVED, Status.SPAM, Status.POSTPONED])
            changes = {"status": final}
            if final == Status.POSTPONED:
                changes["postponed_until"] = now + timedelta(days=rng.randint(1, 7))
            ticket_services.ticket_update(actor=actor, ticket=ticket, **changes)

    def _chat_widget(self, tenant: Tenant) -> str:
        """One website chat widget per company, for the demo page served by the app itself."""
        from routing import widgets
        from routing.models import ChatWidget

        with tenant_context(tenant):
            widget = ChatWidget.objects.filter(name=DEMO_WIDGET_NAME).first()
            if widget is None:
                owner = Membership.objects.filter(tenant=tenant, role=Role.OWNER).select_related("tenant").first()
                widget = widgets.widget_create(actor=actor_for_membership(owner), name=DEMO_WIDGET_NAME,
                                               allowed_origins=DEMO_WIDGET_ORIGINS)
        return f"    Chat widget demo page: {DEMO_WIDGET_ORIGINS[0]}/widget/demo/?key={widget.key}"

    def _credentials(self, tenant: Tenant, spec: dict) -> str:
        with tenant_context(tenant):
            ApiKey.objects.filter(tenant=tenant, name=DEMO_KEY_NAME, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            _, raw_key = helpdesk_services.api_key_create(tenant=tenant, name=DEMO_KEY_NAME)
        agents = ", ".join(f"{handle}@{tenant.slug}.test" for handle, _, _ in spec["agents"])
        return (
            f"  {spec['name']} ({tenant.slug}): admin admin@{tenant.slug}.test; agents {agents}\n"
            f"    API key: {raw_key}"
        )
