"""Plain factory functions building data through the services, as the product does."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from departments import services as department_services
from departments.models import AgentProfile, Department
from helpdesk import services as helpdesk_services
from helpdesk.models import Membership, Role, Tenant
from helpdesk.principals import Actor, actor_for_api_key, actor_for_membership
from helpdesk.tenancy import tenant_context
from tickets import services as ticket_services
from tickets.models import Ticket

PASSWORD = "correct-horse-42"
_counter = itertools.count(1)


@dataclass
class TenantWorld:
    """A tenant with an owner/admin, two agents in one department, and one admin API key."""

    tenant: Tenant
    admin: Actor
    admin_agent: AgentProfile
    agents: list[AgentProfile]
    department: Department
    api_key: str
    agent_api_key: str
    extra: dict = field(default_factory=dict)

    @classmethod
    def create(cls, slug: str) -> TenantWorld:
        tenant = helpdesk_services.tenant_create(slug=slug, name=slug.capitalize())
        with tenant_context(tenant):
            owner_user = helpdesk_services.user_get_or_create(email=f"owner@{slug}.test", password=PASSWORD)
            owner_membership = Membership.objects.create(tenant=tenant, user=owner_user, role=Role.OWNER)
            admin_agent = department_services.agent_profile_create(
                membership=owner_membership, display_name=f"{slug.capitalize()} Owner", status="online"
            )
            admin = actor_for_membership(owner_membership)
            agents = [
                department_services.agent_create(
                    actor=admin, email=f"agent{i}@{slug}.test", display_name=f"{slug.capitalize()} Agent {i}",
                    password=PASSWORD, status="online",
                )
                for i in (1, 2)
            ]
            department = department_services.department_create(
                actor=admin, name="Support", members=agents[:1], support_email=f"support@{slug}.test"
            )
            _, raw_key = helpdesk_services.api_key_create(tenant=tenant, name="integration")
            _, agent_key = helpdesk_services.api_key_create(
                tenant=tenant, name="agent key", role=Role.AGENT, membership=agents[0].membership
            )
        return cls(tenant=tenant, admin=admin, admin_agent=admin_agent, agents=agents, department=department,
                   api_key=raw_key, agent_api_key=agent_key)

    def actor_of(self, agent: AgentProfile) -> Actor:
        return actor_for_membership(agent.membership)

    def key_actor(self, raw_key: str) -> Actor:
        from helpdesk.models import ApiKey

        return actor_for_api_key(ApiKey.objects.get(key_hash=ApiKey.hash_key(raw_key)))

    def ticket(self, **overrides) -> Ticket:
        n = next(_counter)
        fields = {
            "actor": None,
            "subject": f"Printer on fire #{n}",
            "body": "It is on fire.",
            "contact": ticket_services.ContactData(name=f"Customer {n}", email=f"customer{n}@example.com"),
            "department": self.department,
        }
        fields.update(overrides)
        with tenant_context(self.tenant):
            return ticket_services.ticket_create(**fields)
