"""Resolves the acting tenant of each request and runs the request inside that tenant's transaction."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from helpdesk import selectors
from helpdesk.principals import Actor
from helpdesk.tenancy import tenant_context

SESSION_TENANT_KEY = "tenant_id"


class TenantMiddleware:
    """Sets ``request.actor`` (or None) and wraps the view in ``tenant_context``.

    Browser requests act in the tenant chosen in the session (the user's only or first tenant by default);
    API requests act in the tenant of their Bearer key. A bad key is left for the API's authentication to
    answer with 401.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = self._resolve_actor(request)
        if request.actor is None:
            return self.get_response(request)
        with tenant_context(request.actor.tenant):
            response = self.get_response(request)
            # A refused or failed request leaves nothing behind, even if a view wrote before it failed.
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response

    def _resolve_actor(self, request: HttpRequest) -> Actor | None:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, raw_key = header.partition(" ")
            if scheme.lower() == "bearer" and raw_key.strip():
                return selectors.actor_for_raw_api_key(raw_key=raw_key.strip())
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        # Read once per request: the page's tenant switcher lists the same memberships.
        request.user_memberships = list(selectors.membership_list_for_user(user=user))
        membership = selectors.membership_choose(request.user_memberships,
                                                 tenant_id=request.session.get(SESSION_TENANT_KEY))
        if membership is None:
            return None
        if request.session.get(SESSION_TENANT_KEY) != membership.tenant_id:
            # Written only when it changes: assigning marks the session modified, costing a write per request.
            request.session[SESSION_TENANT_KEY] = membership.tenant_id
        return Actor(tenant=membership.tenant, role=membership.role, membership=membership)
