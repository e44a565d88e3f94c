from rest_framework.permissions import SAFE_METHODS, BasePermission

from helpdesk.principals import Actor


class IsTenantMember(BasePermission):
    """Any member or key of the tenant; finer role checks happen in services."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, Actor)


class IsTenantAdminOrReadOnly(IsTenantMember):
    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and (request.method in SAFE_METHODS or request.user.is_admin)
