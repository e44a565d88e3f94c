"""Routing pages: the routing settings with their audit, and answering the offers ringing for an agent."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.errors import ApplicationError, Conflict
from helpdesk.web import admin_required, form_error, member_required, safe_next
from routing import selectors, services
from routing.forms import RoutingSettingsForm

CHANGES_SHOWN = 50


@require_http_methods(["GET", "POST"])
@admin_required
def routing_settings(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if request.method == "POST":
        form = RoutingSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.settings_update(actor=actor, **form.cleaned_data)
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, "Routing settings saved.")
                return redirect("routing-settings")
    else:
        form = RoutingSettingsForm(initial=RoutingSettingsForm.initial_for(services.settings_get()))
    return render(request, "routing/settings.html", {
        "form": form, "changes": selectors.settings_change_list(actor=actor)[:CHANGES_SHOWN],
        "settings_section": "routing",
    }, status=400 if form.errors else 200)


@require_POST
@member_required
def offer_accept(request: HttpRequest, offer_id: int) -> HttpResponse:
    """Someone else may have taken it a moment ago (ring-all) or it rang out: say so, and stay where we were."""
    try:
        ticket = services.offer_accept(actor=request.actor, offer_id=offer_id)
    except Conflict as exc:
        messages.warning(request, exc.message)
        return redirect(safe_next(request, reverse("inbox")))
    messages.success(request, f"Ticket {ticket.code} is yours.")
    return redirect("ticket-detail", code=ticket.code)


@require_POST
@member_required
def offer_decline(request: HttpRequest, offer_id: int) -> HttpResponse:
    try:
        services.offer_decline(actor=request.actor, offer_id=offer_id)
    except Conflict as exc:
        messages.warning(request, exc.message)
    else:
        messages.info(request, "Declined: it goes to the next agent.")
    return redirect(safe_next(request, reverse("inbox")))
