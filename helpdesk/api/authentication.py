"""API authentication. The tenant middleware has already resolved who is acting; this tells DRF about it.

Bearer keys are the integrators' way in. A logged-in browser session is accepted too (the pages' own
scripts use it), with Django's CSRF check, as DRF's SessionAuthentication does.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.request import Request


class TenantPrincipalAuthentication(BaseAuthentication):
    def authenticate(self, request: Request):
        django_request = request._request
        actor = getattr(django_request, "actor", None)
        header = django_request.headers.get("Authorization", "")
        if header:
            if actor is None or actor.api_key is None:
                raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
            return actor, actor.api_key
        if actor is None:
            return None
        self._enforce_csrf(django_request)
        return actor, None

    def _enforce_csrf(self, django_request) -> None:
        check = CSRFCheck(lambda request: None)
        check.process_request(django_request)
        reason = check.process_view(django_request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
