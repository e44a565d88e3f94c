from __future__ import annotations

import pytest

from departments import business_hours
from helpdesk.tenancy import tenant_context

TARGETS = {
    "medium": {"first_response": 60, "next_response": 30, "resolution": 480},
    "urgent": {"first_response": 15, "next_response": 10, "resolution": 120},
}


@pytest.fixture
def policy(acme):
    """Acme's Support department's default SLA (no business hours: the clock is plain time)."""
    from departments import services as department_services

    with tenant_context(acme.tenant):
        policy = business_hours.sla_policy_create(actor=acme.admin, name="Standard", targets=TARGETS,
                                                  due_soon_minutes=10)
        department_services.department_update(actor=acme.admin, department=acme.department, sla_policy=policy)
    return policy
