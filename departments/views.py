"""Settings pages for admins (departments, their members, agents) and every agent's presence status."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments import selectors, services
from departments.forms import AgentCreateForm, AgentForm, DepartmentForm
from departments.models import AgentStatus
from helpdesk.errors import ApplicationError
from helpdesk.web import admin_required, form_error, json_error, member_required, safe_next, wants_json


@require_GET
@admin_required
def settings_home(request: HttpRequest) -> HttpResponse:
    return redirect("department-list")


# --- departments ------------------------------------------------------------------------------------------

@require_GET
@admin_required
def department_list(request: HttpRequest) -> HttpResponse:
    return render(request, "departments/department_list.html", {
        "departments": selectors.department_list_with_counts(actor=request.actor),
        "settings_section": "departments",
    })


@require_http_methods(["GET", "POST"])
@admin_required
def department_create(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    agents = selectors.agent_list(actor=actor)
    form = DepartmentForm(request.POST or None, agents=agents)
    if request.method == "POST" and form.is_valid():
        try:
            department = services.department_create(actor=actor, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Department “{department.name}” created. Now add its agents.")
            return redirect("department-detail", department_id=department.pk)
    return render(request, "departments/department_form.html", {
        "form": form, "settings_section": "departments",
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@admin_required
def department_detail(request: HttpRequest, department_id: int) -> HttpResponse:
    """Edit a department and toggle its agents."""
    actor = request.actor
    department = selectors.department_get(actor=actor, department_id=department_id)
    agents = selectors.agent_list(actor=actor)
    if request.method == "POST":
        form = DepartmentForm(request.POST, agents=agents)
        if form.is_valid():
            try:
                services.department_update(actor=actor, department=department, **form.cleaned_data)
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, "Department saved.")
                return redirect("department-detail", department_id=department.pk)
    else:
        form = DepartmentForm(agents=agents, initial={
            "name": department.name, "description": department.description,
            "to_solve_enabled": department.to_solve_enabled, "leader": department.leader_id,
            "support_email": department.support_email, "signature": department.signature,
            "sla_policy": department.sla_policy_id,
        })
    member_ids = {agent.pk for agent in department.members.all()}
    return render(request, "departments/department_detail.html", {
        "department": department, "form": form, "agents": agents, "member_ids": member_ids,
        "settings_section": "departments",
    }, status=400 if form.errors else 200)


def _members_redirect(department_id: int) -> HttpResponse:
    return redirect(reverse("department-detail", args=[department_id]) + "#members")


@require_POST
@admin_required
def department_member_toggle(request: HttpRequest, department_id: int, agent_id: int, action: str) -> HttpResponse:
    actor = request.actor
    department = selectors.department_get(actor=actor, department_id=department_id)
    agent = selectors.agent_get(actor=actor, agent_id=agent_id)
    if action == "add":
        services.department_member_add(actor=actor, department=department, agent=agent)
        messages.success(request, f"{agent.display_name} added to {department.name}.")
    else:
        services.department_member_remove(actor=actor, department=department, agent=agent)
        messages.success(request, f"{agent.display_name} removed from {department.name}.")
    return _members_redirect(department.pk)


@require_POST
@admin_required
def department_members_all(request: HttpRequest, department_id: int, action: str) -> HttpResponse:
    actor = request.actor
    department = selectors.department_get(actor=actor, department_id=department_id)
    if action == "add":
        added = services.department_members_add_all(actor=actor, department=department)
        messages.success(request, f"{added} agent{'s' if added != 1 else ''} added to {department.name}.")
    else:
        removed = services.department_members_remove_all(actor=actor, department=department)
        messages.success(request, f"{removed} agent{'s' if removed != 1 else ''} removed from {department.name}.")
    return _members_redirect(department.pk)


# --- agents -----------------------------------------------------------------------------------------------

@require_GET
@admin_required
def agent_list(request: HttpRequest) -> HttpResponse:
    return render(request, "departments/agent_list.html", {
        "agents": selectors.agent_list(actor=request.actor), "settings_section": "agents",
    })


@require_http_methods(["GET", "POST"])
@admin_required
def agent_create(request: HttpRequest) -> HttpResponse:
    form = AgentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agent = services.agent_create(actor=request.actor, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"{agent.display_name} can now sign in with {agent.user.email}.")
            return redirect("agent-edit", agent_id=agent.pk)
    return render(request, "departments/agent_create.html", {
        "form": form, "settings_section": "agents",
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@admin_required
def agent_edit(request: HttpRequest, agent_id: int) -> HttpResponse:
    actor = request.actor
    agent = selectors.agent_get(actor=actor, agent_id=agent_id)
    if request.method == "POST":
        form = AgentForm(request.POST)
        if form.is_valid():
            fields = dict(form.cleaned_data)
            role = fields.pop("role")
            try:
                services.agent_update(actor=actor, agent=agent, role=role, **fields)
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, f"{agent.display_name} saved.")
                return redirect("agent-edit", agent_id=agent.pk)
    else:
        form = AgentForm(initial=AgentForm.initial_for(agent))
    return render(request, "departments/agent_edit.html", {
        "agent": agent, "form": form, "settings_section": "agents",
    }, status=400 if form.errors else 200)


# --- presence ---------------------------------------------------------------------------------------------

@require_POST
@member_required
def agent_status_set(request: HttpRequest) -> HttpResponse:
    """Every agent sets their own presence from the header; it is not an admin setting. The header's script
    asks for JSON and stays on the page; without scripts the form redirects back."""
    status = request.POST.get("status", "")
    try:
        agent = services.agent_set_status(actor=request.actor, status=status)
    except ApplicationError as exc:
        if wants_json(request):
            return json_error(exc)
        messages.error(request, exc.message)
    else:
        label = AgentStatus(agent.status).label
        if wants_json(request):
            return JsonResponse({"status": agent.status, "label": str(label),
                                 "message": f"Your status is now {label}."})
        messages.success(request, f"Your status is now {label}.")
    return redirect(safe_next(request, reverse("inbox")))
