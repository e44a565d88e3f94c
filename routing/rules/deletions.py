"""Deleting a department, agent or category switches off the rules that name it, with a warning.

Connected to Django's pre_delete rather than to a service: these rows also disappear through cascades (an
agent with their membership) and maintenance commands, and a rule must never be left pointing at nothing.
"""

from __future__ import annotations

from typing import Any

from helpdesk.tenancy import get_active_tenant, tenant_context
from routing.rules.services import rules_switch_off_referencing

KINDS = {"Department": ("department", "name"), "AgentProfile": ("agent", "display_name"),
         "Category": ("category", "name"), "EmailTemplate": ("template", "subject"), "SlaPolicy": ("sla", "name")}


def on_reference_deleted(sender: Any, instance: Any, **_: Any) -> None:
    kind, label_field = KINDS[sender.__name__]
    label = getattr(instance, label_field, "") or str(instance.pk)
    active = get_active_tenant()
    if active is not None and active.pk == instance.tenant_id:
        rules_switch_off_referencing(kind=kind, pk=instance.pk, label=label)
        return
    from helpdesk.models import Tenant

    tenant = Tenant.objects.filter(pk=instance.tenant_id).first()
    if tenant is not None:
        with tenant_context(tenant):
            rules_switch_off_referencing(kind=kind, pk=instance.pk, label=label)
