"""Signing in and out, choosing the company to work in, and the API keys settings page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk import selectors, services
from helpdesk.errors import ApplicationError
from helpdesk.middleware import SESSION_TENANT_KEY
from helpdesk.models import ADMIN_ROLES, Membership, Role
from helpdesk.web import admin_required, form_error


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account.",
    }

    def clean_username(self) -> str:
        # Addresses are stored lower-case; people type them however they like.
        return self.cleaned_data["username"].strip().lower()


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


@require_POST
def tenant_switch(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    tenant_id = request.POST.get("tenant", "")
    membership = None
    if tenant_id.isdigit():
        membership = selectors.membership_list_for_user(user=request.user).filter(tenant_id=int(tenant_id)).first()
    if membership is None:
        raise Http404("You are not a member of that company.")
    request.session[SESSION_TENANT_KEY] = membership.tenant_id
    messages.success(request, f"You are now working in {membership.tenant.name}.")
    # Always the inbox: the page we came from belongs to the previous company.
    return redirect("inbox")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the key is used, e.g. “CRM sync”.")
    role = forms.ChoiceField(
        choices=[(Role.ADMIN, "Admin: everything in this company"), (Role.AGENT, "Agent: acts as one agent")],
        initial=Role.ADMIN,
    )
    agent = forms.ModelChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="—",
        help_text="For agent keys: the member the key acts as.",
    )

    def __init__(self, *args, tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = (
            Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email")
        )
        self.fields["agent"].label_from_instance = lambda m: f"{m.user} ({m.user.email})"

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("role") == Role.AGENT and not cleaned.get("agent"):
            self.add_error("agent", "Choose the member this key acts as.")
        return cleaned


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def api_key_settings(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    raw_key = None
    created = None
    status = 200
    if request.method == "POST":
        form = ApiKeyForm(request.POST, tenant=actor.tenant)
        if form.is_valid():
            role = form.cleaned_data["role"]
            try:
                created, raw_key = services.api_key_create(
                    tenant=actor.tenant, name=form.cleaned_data["name"], role=role,
                    membership=form.cleaned_data["agent"] if role not in ADMIN_ROLES else None,
                    created_by=request.user,
                )
            except ApplicationError as exc:
                form_error(form, exc)
        if raw_key is None:
            status = 400
        else:
            # The raw key is in this response only: it is not stored, so a reload cannot show it again.
            form = ApiKeyForm(tenant=actor.tenant)
    else:
        form = ApiKeyForm(tenant=actor.tenant)
    return render(
        request, "helpdesk/api_keys.html",
        {"form": form, "api_keys": selectors.api_key_list(actor=actor), "raw_key": raw_key, "created": created,
         "settings_section": "api_keys"},
        status=status,
    )


@require_POST
@admin_required
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    api_key = selectors.api_key_list(actor=request.actor).filter(pk=key_id).first()
    if api_key is None:
        raise Http404("No such API key.")
    services.api_key_revoke(api_key=api_key)
    messages.success(request, f"Key “{api_key.name}” revoked: requests using it are now refused.")
    return redirect("api-key-settings")

