"""What every page view shares: who may open it, the tenant's clock, and turning business errors into pages."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from helpdesk.errors import ApplicationError, NotFound, PermissionDenied

View = Callable[..., HttpResponse]


def member_required(view: View) -> View:
    """Only members of the session's tenant get in; dates and times then read in the tenant's time zone.

    A logged-in user with no membership (removed from every company) gets a page saying so rather than a
    redirect loop back to the login page.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        actor = getattr(request, "actor", None)
        if actor is None:
            return render(request, "helpdesk/no_membership.html", status=403)
        try:
            tz = zoneinfo.ZoneInfo(actor.tenant.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = zoneinfo.ZoneInfo("UTC")
        timezone.activate(tz)
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc
        finally:
            timezone.deactivate()

    return wrapper


def admin_required(view: View) -> View:
    """Settings pages: admins and owners only; everybody else gets the 403 page."""

    @wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.actor.is_admin:
            raise DjangoPermissionDenied("Only admins of this company can open settings.")
        return view(request, *args, **kwargs)

    return member_required(inner)


def form_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's error on the form: field messages beside their fields, the rest at the top."""
    field_messages = set()
    for field, messages in exc.fields.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
            field_messages.add(message)
    if exc.message not in field_messages:
        form.add_error(None, exc.message)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The page to go back to after a small POST (status, tenant), never another site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def wants_json(request: HttpRequest) -> bool:
    """A page's script asking for JSON (Accept: application/json); forms posted without scripts get pages."""
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def json_error(exc: ApplicationError) -> JsonResponse:
    """A business error as the scripts of pages read it: the message, its code and field messages."""
    return JsonResponse({"message": exc.message, "code": exc.code, "fields": exc.fields}, status=exc.status_code)
