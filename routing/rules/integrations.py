"""Business hours, SLA levels and reply templates belong to the departments and tickets apps; rules call their
services when they exist. Looked up by name at call time, so a rule engine deployed before them reports
"not available" instead of failing to import."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

# Where each service may live, in the order looked at.
_PLACES = {
    "business_hours_contains": ("departments.services", "departments.business_hours", "departments.selectors"),
    "sla_apply": ("tickets.services", "tickets.sla", "departments.services", "departments.sla"),
    "template_send_auto_reply": ("tickets.services", "tickets.templates", "tickets.mail"),
}


def service(name: str) -> Callable[..., Any] | None:
    for module_name in _PLACES[name]:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found = getattr(module, name, None)
        if callable(found):
            return found
    return None


def available(name: str) -> bool:
    return service(name) is not None


# Models of the things rules may name beyond departments, agents and categories: (app label, model, label field).
OPTIONAL_MODELS = {"template": ("departments", "EmailTemplate", "subject"), "sla": ("departments", "SlaPolicy", "name")}


def model(kind: str) -> Any:
    """The model of ``kind`` (template, sla), or None where this help desk has none yet."""
    from django.apps import apps

    app_label, name, _ = OPTIONAL_MODELS[kind]
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None
