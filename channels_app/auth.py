"""Websocket authentication: the Django session's user, in the tenant the session has selected."""

from __future__ import annotations

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware

from helpdesk import selectors
from helpdesk.middleware import SESSION_TENANT_KEY
from helpdesk.tenancy import tenant_context


@database_sync_to_async
def _agent_identity(user, session) -> tuple[int, int] | None:
    if user is None or not user.is_authenticated:
        return None
    membership = selectors.membership_for_session(user=user, tenant_id=session.get(SESSION_TENANT_KEY))
    if membership is None:
        return None
    with tenant_context(membership.tenant):
        agent = getattr(membership, "agent", None)
    if agent is None:
        return None
    return membership.tenant_id, agent.pk


class _TenantScope(AuthMiddleware):
    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        self.populate_scope(scope)
        await self.resolve_scope(scope)
        scope["agent_identity"] = await _agent_identity(scope["user"], scope["session"])
        return await self.inner(scope, receive, send)


def TenantSessionAuthMiddleware(inner):  # noqa: N802 - mirrors channels' AuthMiddlewareStack
    return CookieMiddleware(SessionMiddleware(_TenantScope(inner)))
