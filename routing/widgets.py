"""Chat widgets: a tenant's embeddable chat box, the sites allowed to host it, whether anyone can answer it now,
and the visitor-side limits that keep one browser or address from flooding the help desk.

A visitor's request or socket carries only the widget's public key; ``widget_resolve`` finds the tenant from it
(through ``ChatWidgetKey``, which has no row-level security) and only then reads the widget inside that tenant.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from departments.models import AgentProfile, AgentStatus, Department
from helpdesk.errors import ApplicationError, NotFound, PermissionDenied
from helpdesk.models import Tenant
from helpdesk.principals import Actor
from helpdesk.tenancy import require_active_tenant
from routing.models import ChatWidget, ChatWidgetKey

WIDGET_KEY_PREFIX = "hdw_"
MAX_ORIGINS = 50


# --- settings ---------------------------------------------------------------------------------------------

def widget_list(*, actor: Actor) -> QuerySet[ChatWidget]:
    return ChatWidget.objects.select_related("department").order_by("name", "id")


def widget_get(*, actor: Actor, widget_id: int) -> ChatWidget:
    widget = widget_list(actor=actor).filter(pk=widget_id).first()
    if widget is None:
        raise NotFound("No such chat widget.")
    return widget


def origin_normalize(value: str) -> str | None:
    """``scheme://host[:port]`` as browsers send it in the Origin header, or None for anything else."""
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
        return None
    if parts.username or parts.password:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def _clean_origins(origins: list[str]) -> list[str]:
    cleaned: list[str] = []
    bad = []
    for raw in origins:
        if not raw.strip():
            continue
        origin = origin_normalize(raw)
        if origin is None:
            bad.append(raw.strip())
        elif origin not in cleaned:
            cleaned.append(origin)
    errors = [f"“{b[:80]}” is not an origin like https://www.example.com (no path)." for b in bad[:5]]
    if not cleaned and not bad:
        errors.append("Give at least one site, e.g. https://www.example.com.")
    if len(cleaned) > MAX_ORIGINS:
        errors.append(f"At most {MAX_ORIGINS} sites.")
    if errors:
        raise ApplicationError("The chat widget could not be saved.", fields={"allowed_origins": errors})
    return cleaned


def _clean_widget_fields(tenant: Tenant, *, name: str, department: Department | None,
                         allowed_origins: list[str]) -> dict:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["This field is required."]
    if department is not None and department.tenant_id != tenant.pk:
        errors["department"] = ["No such department."]
    try:
        origins = _clean_origins(allowed_origins)
    except ApplicationError as exc:
        errors.update(exc.fields)
        origins = []
    if errors:
        raise ApplicationError("The chat widget could not be saved.", fields=errors)
    return {"name": name[:100], "department": department, "allowed_origins": origins}


def widget_create(
    *, actor: Actor, name: str, allowed_origins: list[str], department: Department | None = None,
    active: bool = True,
) -> ChatWidget:
    if not actor.is_admin:
        raise PermissionDenied("Only admins manage chat widgets.")
    tenant = require_active_tenant()
    fields = _clean_widget_fields(tenant, name=name, department=department, allowed_origins=allowed_origins)
    key = WIDGET_KEY_PREFIX + secrets.token_urlsafe(18)
    with transaction.atomic():
        widget = ChatWidget.objects.create(tenant=tenant, key=key, active=active, **fields)
        ChatWidgetKey.objects.create(key=key, tenant=tenant, widget_id=widget.pk)
    return widget


def widget_update(
    *, actor: Actor, widget: ChatWidget, name: str, allowed_origins: list[str], department: Department | None,
    active: bool,
) -> ChatWidget:
    if not actor.is_admin:
        raise PermissionDenied("Only admins manage chat widgets.")
    fields = _clean_widget_fields(require_active_tenant(), name=name, department=department,
                                  allowed_origins=allowed_origins)
    for name_, value in {**fields, "active": active}.items():
        setattr(widget, name_, value)
    widget.save(update_fields=["name", "department", "allowed_origins", "active"])
    return widget


# --- visitors ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WidgetRef:
    tenant: Tenant
    widget_id: int


def widget_key_lookup(*, key: str) -> WidgetRef | None:
    """The tenant and widget of a public key; needs no active tenant."""
    if not key or len(key) > 40:
        return None
    row = ChatWidgetKey.objects.select_related("tenant").filter(key=key).first()
    if row is None:
        return None
    return WidgetRef(tenant=row.tenant, widget_id=row.widget_id)


def widget_for_visitor(*, widget_id: int, origin: str | None) -> ChatWidget:
    """The active widget, if the page opening it is on one of its sites. Call inside the widget's tenant.

    A missing, inactive or foreign-site widget all answer alike, so a stranger learns nothing about keys.
    """
    widget = ChatWidget.objects.select_related("department").filter(pk=widget_id, active=True).first()
    normalized = origin_normalize(origin or "")
    if widget is None or normalized is None or normalized not in widget.allowed_origins:
        raise NotFound("This chat is not available on this site.", code="widget_unavailable")
    return widget


def chat_available(*, widget: ChatWidget) -> bool:
    """Someone could answer a chat now: an online agent who takes chats, in the widget's department (any
    department when the widget has none)."""
    agents = AgentProfile.objects.filter(status=AgentStatus.ONLINE, takes_chats=True)
    if widget.department_id is not None:
        agents = agents.filter(department_memberships__department_id=widget.department_id)
    return agents.exists()


def rate_limit_hit(*, bucket: str, limit: int, window_seconds: int) -> bool:
    """Count one more action in ``bucket``; True once more than ``limit`` happened in the current window.

    Fixed windows in Django's cache: cheap, shared by every process when the cache is, and good enough to
    stop a flood (a burst straddling two windows may get up to twice the limit through).
    """
    key = f"chat-limit:{bucket}"
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    return count > limit
