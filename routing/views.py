"""Routing pages: the routing settings with their audit, and answering the offers ringing for an agent."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.errors import ApplicationError, Conflict, NotFound
from helpdesk.web import admin_required, form_error, json_error, member_required, safe_next, wants_json
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
    except (Conflict, NotFound) as exc:
        if wants_json(request):
            return json_error(exc)
        if isinstance(exc, NotFound):
            raise
        messages.warning(request, exc.message)
        return redirect(safe_next(request, reverse("inbox")))
    if wants_json(request):
        return JsonResponse({
            "ticket": ticket.code, "ticket_id": ticket.pk, "channel": ticket.channel,
            "url": reverse("ticket-detail", kwargs={"code": ticket.code}),
            "message": f"Ticket {ticket.code} is yours.",
        })
    messages.success(request, f"Ticket {ticket.code} is yours.")
    return redirect("ticket-detail", code=ticket.code)


@require_POST
@member_required
def offer_decline(request: HttpRequest, offer_id: int) -> HttpResponse:
    try:
        services.offer_decline(actor=request.actor, offer_id=offer_id)
    except (Conflict, NotFound) as exc:
        if wants_json(request):
            return json_error(exc)
        if isinstance(exc, NotFound):
            raise
        messages.warning(request, exc.message)
    else:
        if wants_json(request):
            return JsonResponse({"offer_id": offer_id, "message": "Declined: it goes to the next agent."})
        messages.info(request, "Declined: it goes to the next agent.")
    return redirect(safe_next(request, reverse("inbox")))
