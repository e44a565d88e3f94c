"""Who is acting: a logged-in member in the browser or an API key. Selectors and services take an Actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist

from helpdesk.models import ADMIN_ROLES, ApiKey, Membership, Tenant

if TYPE_CHECKING:
    from departments.models import AgentProfile


@dataclass(frozen=True)
class Actor:
    tenant: Tenant
    role: str
    membership: Membership | None = None
    api_key: ApiKey | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def agent(self) -> AgentProfile | None:
        """The agent profile this actor works as, if any (admin API keys act as nobody in particular)."""
        if self.membership is None:
            return None
        return _agent_of(self.membership)

    @property
    def label(self) -> str:
        if self.api_key is not None and self.membership is None:
            return f"API key {self.api_key.name}"
        agent = self.agent
        if agent is not None:
            return agent.display_name
        return str(self.membership.user) if self.membership else "System"

    @property
    def is_authenticated(self) -> bool:
        # Lets DRF treat an Actor as request.user.
        return True


def _agent_of(membership: Membership) -> AgentProfile | None:
    # The reverse one-to-one accessor caches on the membership and keeps this module free of imports from
    # the apps above it.
    try:
        return membership.agent
    except ObjectDoesNotExist:
        return None


def actor_for_membership(membership: Membership) -> Actor:
    return Actor(tenant=membership.tenant, role=membership.role, membership=membership)


def actor_for_api_key(api_key: ApiKey) -> Actor:
    role = api_key.role
    # A key never grants more than its member has.
    if api_key.membership is not None and role in ADMIN_ROLES and api_key.membership.role not in ADMIN_ROLES:
        role = api_key.membership.role
    return Actor(tenant=api_key.tenant, role=role, membership=api_key.membership, api_key=api_key)
