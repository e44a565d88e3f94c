"""Settings pages for business hours, SLA policies, email templates and canned responses (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments import business_hours, replies, selectors
from departments.models import Department
from departments.sla_forms import BusinessHoursForm, CannedResponseForm, EmailTemplateForm, SlaPolicyForm
from helpdesk.errors import ApplicationError
from helpdesk.web import admin_required, form_error


def _page(request: HttpRequest, template: str, context: dict, *, form=None) -> HttpResponse:
    status = 400 if form is not None and form.errors else 200
    return render(request, template, {**context, "settings_section": context.get("settings_section")}, status=status)


# --- business hours ---------------------------------------------------------------------------------------

@require_GET
@admin_required
def business_hours_list(request: HttpRequest) -> HttpResponse:
    hours = business_hours.business_hours_list()
    by_department = {h.department_id: h for h in hours}
    departments = list(Department.objects.order_by("name", "id"))
    return render(request, "departments/business_hours_list.html", {
        "company_hours": by_department.get(None), "departments": [(d, by_department.get(d.pk)) for d in departments],
        "settings_section": "business_hours",
    })


@require_http_methods(["GET", "POST"])
@admin_required
def business_hours_edit(request: HttpRequest, hours_id: int | None = None) -> HttpResponse:
    """Create (``?department=<id>`` for a department's, none for the company's) or change business hours."""
    actor = request.actor
    hours = business_hours.business_hours_get(hours_id=hours_id) if hours_id else None
    department = hours.department if hours else None
    if hours is None and request.GET.get("department"):
        if not request.GET["department"].isdigit():
            raise Http404("No such department.")
        department = selectors.department_get(actor=actor, department_id=int(request.GET["department"]))
    if request.method == "POST":
        form = BusinessHoursForm(request.POST)
        if form.is_valid():
            try:
                if hours is None:
                    business_hours.business_hours_create(actor=actor, department=department, **form.service_data())
                else:
                    business_hours.business_hours_update(actor=actor, hours=hours, **form.service_data())
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, "Business hours saved.")
                return redirect("business-hours-list")
    else:
        initial = (BusinessHoursForm.initial_for(hours) if hours else
                   {"time_zone": actor.tenant.time_zone,
                    **{f"{d}_1_{p}": v for d in ("mon", "tue", "wed", "thu", "fri")
                       for p, v in (("start", "09:00"), ("end", "17:00"))}})
        form = BusinessHoursForm(initial=initial)
    return _page(request, "departments/business_hours_form.html", {
        "form": form, "hours": hours, "department": department, "settings_section": "business_hours",
    }, form=form)


@require_POST
@admin_required
def business_hours_delete(request: HttpRequest, hours_id: int) -> HttpResponse:
    hours = business_hours.business_hours_get(hours_id=hours_id)
    business_hours.business_hours_delete(actor=request.actor, hours=hours)
    messages.success(request, "Business hours removed.")
    return redirect("business-hours-list")


# --- SLA policies -----------------------------------------------------------------------------------------

@require_GET
@admin_required
def sla_policy_list(request: HttpRequest) -> HttpResponse:
    return render(request, "departments/sla_policy_list.html", {
        "policies": business_hours.sla_policy_list(), "settings_section": "sla",
        "department_policies": dict(Department.objects.values_list("sla_policy_id", "name")),
    })


@require_http_methods(["GET", "POST"])
@admin_required
def sla_policy_edit(request: HttpRequest, policy_id: int | None = None) -> HttpResponse:
    actor = request.actor
    policy = business_hours.sla_policy_get(policy_id=policy_id) if policy_id else None
    if request.method == "POST":
        form = SlaPolicyForm(request.POST)
        if form.is_valid():
            try:
                if policy is None:
                    business_hours.sla_policy_create(actor=actor, **form.service_data())
                else:
                    business_hours.sla_policy_update(actor=actor, policy=policy, **form.service_data())
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, "SLA policy saved.")
                return redirect("sla-policy-list")
    else:
        form = SlaPolicyForm(initial=SlaPolicyForm.initial_for(policy) if policy else None)
    return _page(request, "departments/sla_policy_form.html", {
        "form": form, "policy": policy, "settings_section": "sla",
    }, form=form)


@require_POST
@admin_required
def sla_policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    business_hours.sla_policy_delete(actor=request.actor, policy=business_hours.sla_policy_get(policy_id=policy_id))
    messages.success(request, "SLA policy deleted. Its tickets keep their due times.")
    return redirect("sla-policy-list")


# --- email templates --------------------------------------------------------------------------------------

@require_GET
@admin_required
def email_template_list(request: HttpRequest) -> HttpResponse:
    return render(request, "departments/email_template_list.html", {
        "templates": replies.email_template_list(), "settings_section": "email_templates",
    })


@require_http_methods(["GET", "POST"])
@admin_required
def email_template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    """Create or change a template; the Preview button fills it in for a sample ticket without saving."""
    actor = request.actor
    template = replies.email_template_get(template_id=template_id) if template_id else None
    preview = None
    if request.method == "POST":
        form = EmailTemplateForm(request.POST)
        if template is not None:
            # The department and kind of a saved template are fixed; change them by making a new one.
            form.fields["department"].disabled = form.fields["kind"].disabled = True
            form.initial = {"department": template.department_id, "kind": template.kind}
        if form.is_valid():
            data = form.cleaned_data
            try:
                if "preview" in request.POST:
                    preview = replies.email_template_preview(subject=data["subject"], body=data["body"],
                                                             department=data["department"])
                elif template is None:
                    replies.email_template_create(actor=actor, **data)
                else:
                    replies.email_template_update(actor=actor, template=template, subject=data["subject"],
                                                  body=data["body"], enabled=data["enabled"])
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                if preview is None:
                    messages.success(request, "Email template saved.")
                    return redirect("email-template-list")
    else:
        initial = ({"department": template.department_id, "kind": template.kind, "subject": template.subject,
                    "body": template.body, "enabled": template.enabled} if template else None)
        kind = request.GET.get("kind", "")
        if template is None and kind in replies.DEFAULT_TEXTS:
            # A new resolved or satisfaction template starts from the suggested text (with its rating link).
            subject, body = replies.DEFAULT_TEXTS[kind]
            initial = {"kind": kind, "subject": subject, "body": body, "enabled": True}
        form = EmailTemplateForm(initial=initial)
        if template is not None:
            form.fields["department"].disabled = form.fields["kind"].disabled = True
    return _page(request, "departments/email_template_form.html", {
        "form": form, "template": template, "preview": preview, "placeholders": replies.PLACEHOLDERS.items(),
        "settings_section": "email_templates",
    }, form=form)


@require_POST
@admin_required
def email_template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    replies.email_template_delete(actor=request.actor, template=replies.email_template_get(template_id=template_id))
    messages.success(request, "Email template deleted.")
    return redirect("email-template-list")


# --- canned responses -------------------------------------------------------------------------------------

@require_GET
@admin_required
def canned_response_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    found = (replies.canned_response_search(department_id=None, query=query, limit=500) if query else
             list(replies.canned_response_list()))
    return render(request, "departments/canned_response_list.html", {
        "responses": found, "query": query, "settings_section": "canned_responses",
    })


@require_http_methods(["GET", "POST"])
@admin_required
def canned_response_edit(request: HttpRequest, canned_id: int | None = None) -> HttpResponse:
    actor = request.actor
    canned = replies.canned_response_get(canned_id=canned_id) if canned_id else None
    if request.method == "POST":
        form = CannedResponseForm(request.POST)
        if form.is_valid():
            try:
                if canned is None:
                    replies.canned_response_create(actor=actor, **form.cleaned_data)
                else:
                    replies.canned_response_update(actor=actor, canned=canned, **form.cleaned_data)
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, "Canned response saved.")
                return redirect("canned-response-list")
    else:
        initial = ({"shortcut": canned.shortcut, "title": canned.title, "department": canned.department_id,
                    "body": canned.body} if canned else None)
        form = CannedResponseForm(initial=initial)
    return _page(request, "departments/canned_response_form.html", {
        "form": form, "canned": canned, "placeholders": replies.PLACEHOLDERS.items(),
        "settings_section": "canned_responses",
    }, form=form)


@require_POST
@admin_required
def canned_response_delete(request: HttpRequest, canned_id: int) -> HttpResponse:
    replies.canned_response_delete(actor=request.actor, canned=replies.canned_response_get(canned_id=canned_id))
    messages.success(request, "Canned response deleted.")
    return redirect("canned-response-list")

