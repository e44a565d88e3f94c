"""Agent pages for tickets: the inbox, a ticket's page and its actions, attachments and new tickets."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments.selectors import department_ids_of_agent
from helpdesk.errors import ApplicationError, Conflict, NotFound
from helpdesk.pagination import keyset_paginate
from helpdesk.web import form_error, member_required
from tickets import selectors, services
from tickets.forms import (
    SORT_ORDERINGS,
    InboxFilterForm,
    MessageForm,
    TicketCreateForm,
    TicketPropertiesForm,
    tag_names,
)
from tickets.models import MessageKind, Ticket
from tickets.presenters import inbox_rows
from tickets.scopes import inbox_scope_get

INBOX_PAGE_SIZE = 50
VIEW_TITLES = {"all": "All tickets", "mine": "Mine", "to_solve": "To solve"}


@require_GET
@member_required
def inbox(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    agent = actor.agent
    departments = list(selectors.department_choices(actor=actor))
    form = InboxFilterForm(request.GET, departments=departments, agents=selectors.assignee_options(actor=actor))
    form.is_valid()
    cleaned = getattr(form, "cleaned_data", {})
    view = cleaned.get("view") or "all"
    sort = cleaned.get("sort") or "newest"

    if actor.is_admin:
        sidebar_departments = departments
    else:
        own = set(department_ids_of_agent(agent=agent)) if agent else set()
        sidebar_departments = [d for d in departments if d.pk in own]

    current_department = None
    if view == "department":
        department_id = cleaned.get("department", "")
        current_department = next((d for d in departments if str(d.pk) == department_id), None)
        if current_department is None:
            raise Http404("No such department.")
    scope, status = None, 200
    try:
        scope = inbox_scope_get(actor=actor, params=request.GET)
    except NotFound:
        raise
    except ApplicationError as exc:  # a scope that cannot be read lists nothing rather than everything
        form_error(form, exc)
        status = exc.status_code
    try:
        tickets = selectors.inbox_ticket_list(
            actor=actor, view=view, department=current_department, filters=form.filter_data(),
            scope=scope.tickets if scope else None,
        )
    except ApplicationError as exc:
        form_error(form, exc)
        tickets = Ticket.objects.none()
    if status != 200:
        tickets = Ticket.objects.none()
    if sort == "sla_due":
        tickets = tickets.filter(sla_due_at__isnull=False)
    tickets = selectors.ticket_rows(tickets)
    try:
        page = keyset_paginate(tickets, ordering=SORT_ORDERINGS[sort], cursor=cleaned.get("cursor") or None,
                               page_size=INBOX_PAGE_SIZE)
    except ApplicationError:
        messages.warning(request, "That page link is not valid any more; showing the first page.")
        page = keyset_paginate(tickets, ordering=SORT_ORDERINGS[sort], cursor=None, page_size=INBOX_PAGE_SIZE)
    tags = selectors.tag_names_by_ticket(ticket_ids=[row["id"] for row in page.items])
    rows = inbox_rows(page.items, tags, by_activity=sort == "activity",
                      take_csrf_token=get_token(request) if view == "to_solve" else None)

    active_filters = form.filter_data()
    if view == "department":
        active_filters.pop("department", None)
    title = current_department.name if current_department else VIEW_TITLES.get(view, "All tickets")
    return render(request, "tickets/inbox.html", {
        "form": form, "view": view, "sort": sort, "page": page, "rows": rows,
        "title": title, "sidebar_departments": sidebar_departments, "current_department": current_department,
        "filtered": bool(active_filters), "scope": scope,
    }, status=status)


@require_GET
@member_required
def inbox_counts(request: HttpRequest) -> JsonResponse:
    """The sidebar's department counts, fetched by the page when a push says they changed (the inbox itself
    never counts, so a large list stays one index range scan)."""
    counts = selectors.department_counts(actor=request.actor)
    return JsonResponse({"departments": {str(pk): value for pk, value in counts.items()}})


def _render_ticket(
    request: HttpRequest, ticket: Ticket, *, reply_form: MessageForm | None = None,
    note_form: MessageForm | None = None, properties_form: TicketPropertiesForm | None = None, status: int = 200,
) -> HttpResponse:
    actor = request.actor
    if properties_form is None:
        properties_form = TicketPropertiesForm(
            initial=TicketPropertiesForm.initial_for(ticket), departments=selectors.department_choices(actor=actor),
            agents=selectors.assignee_choices(actor=actor),
        )
    return render(request, "tickets/ticket_detail.html", {
        "ticket": ticket,
        "conversation": selectors.message_list(actor=actor, ticket=ticket),
        "events": selectors.event_list(actor=actor, ticket=ticket),
        "history": selectors.contact_history(actor=actor, ticket=ticket),
        "reply_form": reply_form or MessageForm(prefix="reply"),
        "note_form": note_form or MessageForm(prefix="note"),
        "properties_form": properties_form,
    }, status=status)


@require_GET
@member_required
def ticket_detail(request: HttpRequest, code: str) -> HttpResponse:
    ticket = selectors.ticket_get(actor=request.actor, code=code)
    return _render_ticket(request, ticket)


@require_POST
@member_required
def ticket_message_add(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    """A reply to the customer or an internal note, with attachments."""
    ticket = selectors.ticket_get(actor=request.actor, code=code)
    prefix = "reply" if kind == MessageKind.REPLY else "note"
    form = MessageForm(request.POST, request.FILES, prefix=prefix)
    if form.is_valid():
        try:
            message = services.message_add(
                actor=request.actor, ticket=ticket, kind=kind, body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Reply sent." if kind == MessageKind.REPLY else "Internal note added.")
            return redirect(reverse("ticket-detail", args=[ticket.code]) + f"#message-{message.pk}")
    forms = {"reply_form": form} if kind == MessageKind.REPLY else {"note_form": form}
    return _render_ticket(request, ticket, status=400, **forms)


@require_POST
@member_required
def ticket_properties_update(request: HttpRequest, code: str) -> HttpResponse:
    """Status, postponement, priority, tags and transfers (department and/or assignee) in one form."""
    actor = request.actor
    ticket = selectors.ticket_get(actor=actor, code=code)
    form = TicketPropertiesForm(
        request.POST, departments=selectors.department_choices(actor=actor),
        agents=selectors.assignee_choices(actor=actor),
    )
    if form.is_valid():
        changes = form.changes(ticket)
        if not changes:
            messages.info(request, "Nothing changed.")
            return redirect("ticket-detail", code=ticket.code)
        try:
            services.ticket_update(actor=actor, ticket=ticket, **changes)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Ticket updated.")
            return redirect("ticket-detail", code=ticket.code)
    return _render_ticket(request, ticket, properties_form=form, status=400)


@require_POST
@member_required
def ticket_take(request: HttpRequest, code: str) -> HttpResponse:
    """Opening a ticket from To solve: whoever's request commits first owns it; the other is told who."""
    ticket = selectors.ticket_get(actor=request.actor, code=code)
    try:
        services.ticket_take(actor=request.actor, ticket=ticket)
    except Conflict as exc:
        messages.warning(request, exc.message)
    else:
        messages.success(request, "You now own this ticket.")
    return redirect("ticket-detail", code=ticket.code)


@require_GET
@member_required
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = selectors.attachment_get(actor=request.actor, attachment_id=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file of this attachment is missing.") from exc
    # Always a download, never rendered inline: an uploaded HTML or SVG file must not run in our origin.
    return FileResponse(handle, as_attachment=True, filename=attachment.filename,
                        content_type=attachment.content_type or "application/octet-stream")


@require_http_methods(["GET", "POST"])
@member_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    choices = {"departments": selectors.department_choices(actor=actor),
               "agents": selectors.assignee_choices(actor=actor)}
    if request.method == "POST":
        form = TicketCreateForm(request.POST, **choices)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_create(
                    actor=actor, subject=data["subject"], body=data["body"],
                    contact=services.ContactData(name=data["contact_name"], email=data["contact_email"],
                                                 phone=data["contact_phone"]),
                    channel=data["channel"], priority=data["priority"], department=data["department"],
                    assignee=data["assignee"], tags=tag_names(data["tags"]),
                )
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, f"Ticket {ticket.code} created.")
                return redirect("ticket-detail", code=ticket.code)
        status = 400
    else:
        form = TicketCreateForm(initial={"assignee": actor.agent.pk if actor.agent else None}, **choices)
        status = 200
    return render(request, "tickets/ticket_new.html", {"form": form}, status=status)
