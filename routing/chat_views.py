"""Live chat over HTTP: the chat widget settings pages, the widget's public endpoints and demo page, and the
agent's chat panel endpoints (JSON, session-authenticated).

The widget endpoints are called from customers' websites: they take no cookies (CSRF does not apply), check
the widget key and the page's Origin instead, answer CORS preflights for the widget's sites only, and are rate
limited per address. Errors have the API's shape: ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments.models import AgentProfile, Department
from helpdesk.api.errors import error_body
from helpdesk.errors import ApplicationError, NotFound
from helpdesk.tenancy import tenant_context
from helpdesk.web import admin_required, form_error
from routing import chats, widgets
from routing.models import ChatWidget

CHAT_STARTS_PER_MINUTE = 5
OFFLINE_MESSAGES_PER_MINUTE = 3


def _error(exc: ApplicationError) -> JsonResponse:
    return JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApplicationError("The request body is not valid JSON.", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise ApplicationError("Send a JSON object.", code="invalid_json")
    return data


def _text(data: dict, name: str) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApplicationError("Invalid input.", fields={name: ["Must be text."]})
    return value


# --- settings: chat widgets ---------------------------------------------------------------------------------

class ChatWidgetForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where it is used, e.g. “Website”.")
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"), required=False, empty_label="Any department",
        help_text="Chats go to this department's agents; without one, to every agent who takes chats.",
    )
    allowed_origins = forms.CharField(
        label="Allowed sites", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, e.g. https://www.example.com. Only pages of these sites can open the chat.",
    )
    active = forms.BooleanField(required=False, initial=True)

    def origins(self) -> list[str]:
        return self.cleaned_data["allowed_origins"].splitlines()


def snippet_for(request: HttpRequest, widget: ChatWidget) -> str:
    src = request.build_absolute_uri(static("widget/widget.js"))
    return f'<script src="{src}" data-widget-key="{widget.key}" defer></script>'


def _widget_form_save(request: HttpRequest, form: ChatWidgetForm, widget: ChatWidget | None) -> ChatWidget | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        if widget is None:
            return widgets.widget_create(actor=request.actor, name=data["name"], department=data["department"],
                                         allowed_origins=form.origins(), active=data["active"])
        return widgets.widget_update(actor=request.actor, widget=widget, name=data["name"],
                                     department=data["department"], allowed_origins=form.origins(),
                                     active=data["active"])
    except ApplicationError as exc:
        form_error(form, exc)
        return None


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def widget_settings(request: HttpRequest) -> HttpResponse:
    form = ChatWidgetForm(request.POST or None, initial={"allowed_origins": request.build_absolute_uri("/")[:-1]})
    if request.method == "POST":
        widget = _widget_form_save(request, form, None)
        if widget is not None:
            messages.success(request, f"Chat widget “{widget.name}” created: copy its snippet below.")
            return redirect("chat-widget-edit", widget_id=widget.pk)
    return render(request, "routing/chat_widgets.html", {
        "form": form, "widgets": widgets.widget_list(actor=request.actor), "settings_section": "chat_widgets",
    }, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def widget_edit(request: HttpRequest, widget_id: int) -> HttpResponse:
    widget = widgets.widget_get(actor=request.actor, widget_id=widget_id)
    initial = {"name": widget.name, "department": widget.department, "active": widget.active,
               "allowed_origins": "\n".join(widget.allowed_origins)}
    form = ChatWidgetForm(request.POST or None, initial=initial)
    if request.method == "POST" and _widget_form_save(request, form, widget) is not None:
        messages.success(request, "Chat widget saved.")
        return redirect("chat-widget-edit", widget_id=widget.pk)
    return render(request, "routing/chat_widget_edit.html", {
        "form": form, "widget": widget, "snippet": snippet_for(request, widget), "settings_section": "chat_widgets",
    }, status=400 if form.errors else 200)


# --- the widget's public side --------------------------------------------------------------------------------

@require_GET
def widget_demo(request: HttpRequest) -> HttpResponse:
    """A stand-in for a customer's website, carrying the widget snippet."""
    key = request.GET.get("key", "")
    if widgets.widget_key_lookup(key=key) is None:
        raise Http404("No such chat widget.")
    return render(request, "routing/widget_demo.html", {"widget_key": key})


WidgetHandler = Callable[[HttpRequest, ChatWidget, dict], HttpResponse]


def widget_endpoint(handler: WidgetHandler) -> Callable[[HttpRequest], HttpResponse]:
    """Resolve ``?key=`` and the Origin to the widget, inside its tenant; answer CORS for its sites only."""

    @csrf_exempt
    @wraps(handler)
    def view(request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        ref = widgets.widget_key_lookup(key=request.GET.get("key", ""))
        if request.method not in ("POST", "OPTIONS"):
            return JsonResponse(error_body("method_not_allowed", "Use POST."), status=405)
        site_allowed = False
        try:
            if ref is None:
                raise NotFound("This chat is not available on this site.", code="widget_unavailable")
            with tenant_context(ref.tenant):
                widget = widgets.widget_for_visitor(widget_id=ref.widget_id, origin=origin)
                site_allowed = True
                if request.method == "OPTIONS":
                    response = HttpResponse(status=204)
                    response["Access-Control-Allow-Methods"] = "POST"
                    response["Access-Control-Allow-Headers"] = "Content-Type"
                    response["Access-Control-Max-Age"] = "600"
                else:
                    response = handler(request, widget, _json_body(request))
        except ApplicationError as exc:
            response = _error(exc)
        # Only the widget's own sites may read the answer (its refusals included, so the widget can show them).
        if site_allowed:
            response["Access-Control-Allow-Origin"] = origin
            response["Vary"] = "Origin"
        return response

    return view


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")


@widget_endpoint
def widget_status(request: HttpRequest, widget: ChatWidget, data: dict) -> HttpResponse:
    return JsonResponse({"available": widgets.chat_available(widget=widget), "name": widget.name})


@widget_endpoint
def widget_chat_start(request: HttpRequest, widget: ChatWidget, data: dict) -> HttpResponse:
    if widgets.rate_limit_hit(bucket=f"start:{_client_address(request)}", limit=CHAT_STARTS_PER_MINUTE,
                              window_seconds=60):
        return JsonResponse(error_body("rate_limited", "Too many chats started from here: try again in a minute."),
                            status=429)
    chat, token = chats.chat_start(widget=widget, message=_text(data, "message"), name=_text(data, "name"),
                                   email=_text(data, "email"))
    return JsonResponse({"chat": chat.pk, "token": token, "ticket": chat.ticket.code}, status=201)


@widget_endpoint
def widget_offline_message(request: HttpRequest, widget: ChatWidget, data: dict) -> HttpResponse:
    if widgets.rate_limit_hit(bucket=f"offline:{_client_address(request)}", limit=OFFLINE_MESSAGES_PER_MINUTE,
                              window_seconds=60):
        return JsonResponse(error_body("rate_limited", "Too many messages sent from here: try again in a minute."),
                            status=429)
    ticket = chats.offline_message_leave(widget=widget, message=_text(data, "message"), name=_text(data, "name"),
                                         email=_text(data, "email"))
    return JsonResponse({"ticket": ticket.code}, status=201)


# --- the agent's chat panel ---------------------------------------------------------------------------------

def agent_json(view: Callable[..., JsonResponse]) -> Callable[..., HttpResponse]:
    """JSON in and out for the signed-in agent; business errors keep their status (404 for others' chats)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = getattr(request, "actor", None)
        if not request.user.is_authenticated or actor is None:
            return JsonResponse(error_body("not_authenticated", "Sign in first."), status=401)
        if actor.agent is None:
            return JsonResponse(error_body("not_found", "No chats here."), status=404)
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return _error(exc)

    return never_cache(wrapper)


@require_GET
@agent_json
def chat_list(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"chats": [chats.chat_json(c) for c in chats.chat_list_running(actor=request.actor)]})


@require_GET
@agent_json
def chat_detail(request: HttpRequest, ticket_id: int) -> JsonResponse:
    return JsonResponse(chats.chat_json(chats.chat_get_for_agent(actor=request.actor, ticket_id=ticket_id)))


@require_GET
@agent_json
def chat_transfer_targets(request: HttpRequest) -> JsonResponse:
    return JsonResponse({
        "departments": [{"id": d.pk, "name": d.name} for d in Department.objects.order_by("name", "id")],
        "agents": [{"id": a.pk, "name": a.display_name} for a in chats.transfer_agent_list(actor=request.actor)],
    })


@require_POST
@agent_json
def chat_reply(request: HttpRequest, ticket_id: int) -> JsonResponse:
    chat = chats.chat_get_for_agent(actor=request.actor, ticket_id=ticket_id)
    message = chats.chat_agent_reply(actor=request.actor, chat=chat, body=_text(_json_body(request), "body"))
    return JsonResponse({"message": chats.message_json(message)}, status=201)


@require_POST
@agent_json
def chat_end(request: HttpRequest, ticket_id: int) -> JsonResponse:
    chat = chats.chat_end(actor=request.actor, chat=chats.chat_get_for_agent(actor=request.actor, ticket_id=ticket_id))
    chat.refresh_from_db()
    return JsonResponse(chats.chat_json(chat, with_transcript=False))


def _target_id(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise ApplicationError("Invalid input.", fields={name: ["Must be an id."]})
    return int(value)


@require_POST
@agent_json
def chat_transfer(request: HttpRequest, ticket_id: int) -> JsonResponse:
    chat = chats.chat_get_for_agent(actor=request.actor, ticket_id=ticket_id)
    data = _json_body(request)
    department_id, agent_id = _target_id(data, "department_id"), _target_id(data, "agent_id")
    department = agent = None
    if department_id is not None:
        department = Department.objects.filter(pk=department_id).first()
        if department is None:
            raise ApplicationError("Invalid input.", fields={"department_id": ["No such department."]})
    if agent_id is not None:
        agent = AgentProfile.objects.filter(pk=agent_id).first()
        if agent is None:
            raise ApplicationError("Invalid input.", fields={"agent_id": ["No such agent."]})
    chats.chat_transfer(actor=request.actor, chat=chat, department=department, agent=agent)
    return JsonResponse({"transferred": True, "ticket_id": ticket_id})
