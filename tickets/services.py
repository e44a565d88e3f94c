"""Writes for tickets: creation, the conversation, changes, transfers and taking a ticket from To solve.

Every change appends to the ticket's system log in the same transaction, so the log and the ticket never
disagree.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from departments.models import AgentProfile, Department
from helpdesk import hooks, push
from helpdesk.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from helpdesk.principals import Actor
from helpdesk.tenancy import require_active_tenant
from tickets import mail, sla
from tickets.models import (
    PRIORITY_NAMES,
    ActorType,
    Attachment,
    Category,
    Channel,
    Contact,
    EventKind,
    Message,
    MessageKind,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketTag,
)

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: codes are read aloud and typed
VISITOR_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def ticket_code_generate() -> str:
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def visitor_id_generate() -> str:
    return "v-" + "".join(secrets.choice(VISITOR_ALPHABET) for _ in range(8))


# --- customers --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContactData:
    name: str = ""
    email: str = ""
    phone: str = ""
    location: str = ""


def _contact_by_email(email: str) -> Contact | None:
    # Emails are stored lower-cased (a check constraint says so), so an exact match on the column uses the
    # unique index on (tenant, email).
    return Contact.objects.filter(email=email.lower()).exclude(email="").first()


def contact_find_or_create(*, data: ContactData) -> Contact:
    """The returning customer with this email (or, without one, this phone), or a new contact."""
    tenant = require_active_tenant()
    email = data.email.strip().lower()
    phone = data.phone.strip()
    if email:
        try:
            validate_email(email)
        except Exception as exc:
            raise ApplicationError("Invalid email.", fields={"email": ["Enter a valid email address."]}) from exc
    existing = None
    if email:
        existing = _contact_by_email(email)
    elif phone:
        existing = Contact.objects.filter(phone=phone).order_by("id").first()
    if existing is not None:
        changed = []
        for name in ("name", "phone", "location"):
            value = getattr(data, name).strip()
            if value and not getattr(existing, name):
                setattr(existing, name, value)
                changed.append(name)
        if changed:
            existing.save(update_fields=changed)
        return existing
    contact = Contact(
        tenant=tenant, name=data.name.strip()[:200], email=email, phone=phone[:40],
        location=data.location.strip()[:200], visitor_id=visitor_id_generate(),
    )
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        # Another request created this customer a moment ago: use theirs.
        if email:
            return _contact_by_email(email)
        raise
    return contact


# --- the system log ---------------------------------------------------------------------------------------

def _actor_fields(actor: Actor | None) -> dict[str, Any]:
    if actor is None:
        return {"actor_type": ActorType.SYSTEM, "actor_id": None, "actor_label": "System"}
    agent = actor.agent
    if agent is not None:
        return {"actor_type": ActorType.AGENT, "actor_id": agent.pk, "actor_label": agent.display_name}
    if actor.api_key is not None:
        return {"actor_type": ActorType.API, "actor_id": actor.api_key.pk, "actor_label": actor.label}
    return {"actor_type": ActorType.SYSTEM, "actor_id": None, "actor_label": actor.label}


def _event(ticket: Ticket, kind: str, data: dict, actor_fields: dict[str, Any], at: datetime) -> TicketEvent:
    """A log event with the ticket's department, assignee and channel as they are at this moment."""
    return TicketEvent(
        tenant_id=ticket.tenant_id, ticket=ticket, kind=kind, data=data,
        department_id_at_event=ticket.department_id, assignee_id_at_event=ticket.assignee_id,
        channel=ticket.channel, created_at=at, **actor_fields,
    )


def event_append(
    *, ticket: Ticket, kind: str, actor: Actor | None, data: dict | None = None,
    actor_fields: dict[str, Any] | None = None, at: datetime | None = None,
) -> TicketEvent:
    event = _event(ticket, kind, data or {}, actor_fields or _actor_fields(actor), at or timezone.now())
    event.save(force_insert=True)
    return event


def events_append(
    *, ticket: Ticket, changes: Sequence[tuple[str, dict]], actor: Actor | None, at: datetime | None = None,
) -> list[TicketEvent]:
    """Several events of one actor at one moment (``(kind, data)`` pairs, in order), in one statement."""
    at = at or timezone.now()
    fields = _actor_fields(actor)
    return TicketEvent.objects.bulk_create([_event(ticket, kind, data, fields, at) for kind, data in changes])


# --- creating tickets -------------------------------------------------------------------------------------

def _tags_get_or_create(names: Iterable[str]) -> list[Tag]:
    tenant = require_active_tenant()
    clean = sorted({n.strip().lower()[:50] for n in names if n and n.strip()})
    if not clean:
        return []
    Tag.objects.bulk_create([Tag(tenant=tenant, name=n) for n in clean], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=clean))


def _check_same_tenant(tenant_id: int, **objects: Any) -> None:
    for name, obj in objects.items():
        if obj is not None and obj.tenant_id != tenant_id:
            raise NotFound(f"No such {name}.", fields={name: [f"No such {name}."]})


def ticket_create(
    *, actor: Actor | None, subject: str, body: str, contact: ContactData, channel: str = Channel.EMAIL,
    priority: int = 2, department: Department | None = None, assignee: AgentProfile | None = None,
    tags: Sequence[str] = (), category: Category | None = None, created_at: datetime | None = None,
) -> Ticket:
    """Open a ticket with the customer's first message. ``actor`` is who entered it (None: the customer)."""
    tenant = require_active_tenant()
    subject = subject.strip()
    errors: dict[str, list[str]] = {}
    if not subject:
        errors["subject"] = ["This field is required."]
    if not body.strip():
        errors["body"] = ["This field is required."]
    if channel not in Channel.values:
        errors["channel"] = [f"Choose one of {', '.join(Channel.values)}."]
    if priority not in PRIORITY_NAMES:
        errors["priority"] = [f"Choose one of {', '.join(PRIORITY_NAMES.values())}."]
    if not (contact.email or contact.phone or contact.name):
        errors["contact"] = ["Give the customer's email, phone or name."]
    if errors:
        raise ApplicationError("The ticket could not be created.", fields=errors)
    _check_same_tenant(tenant.pk, department=department, assignee=assignee, category=category)
    now = created_at or timezone.now()
    with transaction.atomic():
        customer = contact_find_or_create(data=contact)
        ticket = _ticket_insert_with_unique_code(
            tenant_id=tenant.pk, subject=subject[:250], channel=channel, priority=priority,
            department=department, assignee=assignee, contact=customer, category=category,
            status=Status.NEW, created_at=now, updated_at=now,
        )
        tag_objects = _tags_get_or_create(tags)
        TicketTag.objects.bulk_create([TicketTag(tenant=tenant, ticket=ticket, tag=t) for t in tag_objects])
        event_append(
            ticket=ticket, kind=EventKind.CREATED, actor=actor, at=now,
            data={
                "subject": ticket.subject, "channel": channel, "priority": PRIORITY_NAMES[priority],
                "department": department.name if department else None,
                "assignee": assignee.display_name if assignee else None,
                "tags": [t.name for t in tag_objects],
            },
        )
        Message.objects.create(
            tenant=tenant, ticket=ticket, kind=MessageKind.CUSTOMER, body=body,
            author_label=customer.display_name, created_at=now,
        )
        event_append(
            ticket=ticket, kind=EventKind.CUSTOMER_MESSAGE, actor=None, at=now,
            actor_fields={"actor_type": ActorType.CUSTOMER, "actor_id": customer.pk,
                          "actor_label": customer.display_name},
        )
        sla.sla_ticket_created(ticket=ticket, now=now)
        mail.ticket_created_mail(ticket=ticket, now=now)
        hooks.fire(hooks.TICKET_CREATED, ticket=ticket)
    return ticket


def _ticket_insert_with_unique_code(**fields: Any) -> Ticket:
    for _ in range(5):
        ticket = Ticket(code=ticket_code_generate(), **fields)
        try:
            with transaction.atomic():
                ticket.save()
            return ticket
        except IntegrityError:
            if not Ticket.unscoped.filter(tenant_id=fields["tenant_id"], code=ticket.code).exists():
                raise
    raise RuntimeError("Could not find a free ticket code.")  # 32^8 codes: practically unreachable


# --- the conversation -------------------------------------------------------------------------------------

def _validate_attachments(files: Sequence[UploadedFile]) -> None:
    problems = []
    for f in files:
        if f.size > settings.ATTACHMENT_MAX_BYTES:
            problems.append(f"{f.name}: larger than {settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB.")
        elif (f.content_type or "").split(";")[0] not in settings.ATTACHMENT_CONTENT_TYPES:
            problems.append(f"{f.name}: files of type {f.content_type or 'unknown'} are not accepted.")
    if problems:
        raise ApplicationError("Attachment refused.", fields={"attachments": problems})


def message_add(
    *, actor: Actor | None, ticket: Ticket, kind: str, body: str, attachments: Sequence[UploadedFile] = (),
    at: datetime | None = None,
) -> Message:
    """Add a reply or note by an agent, or a customer message (actor None)."""
    if kind not in MessageKind.values:
        raise ApplicationError(
            "Unknown message kind.", fields={"kind": [f"Choose one of {', '.join(MessageKind.values)}."]}
        )
    # Admins may enter what a customer wrote (an email integration's admin key does); an agent, in the browser
    # or through an agent key, only replies or adds notes.
    if kind == MessageKind.CUSTOMER and actor is not None and not actor.is_admin:
        raise PermissionDenied("Agents reply or add notes; customer messages come from the customer.")
    if kind != MessageKind.CUSTOMER and actor is None:
        raise PermissionDenied("Replies and notes come from agents.")
    if not body.strip():
        raise ApplicationError("The message is empty.", fields={"body": ["This field is required."]})
    _validate_attachments(attachments)
    now = at or timezone.now()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(no_key=True).get(pk=ticket.pk)
        agent = actor.agent if actor else None
        author_label = locked.contact.display_name if kind == MessageKind.CUSTOMER else actor.label
        message = Message.objects.create(
            tenant_id=locked.tenant_id, ticket=locked, kind=kind, body=body,
            author_agent=agent if kind != MessageKind.CUSTOMER else None, author_label=author_label,
            created_at=now,
        )
        for f in attachments:
            Attachment.objects.create(
                tenant_id=locked.tenant_id, message=message, file=f, filename=f.name[:200],
                content_type=(f.content_type or "application/octet-stream")[:100], size=f.size,
            )
        update_fields = ["updated_at"]
        locked.updated_at = now
        old_status = locked.status
        if kind == MessageKind.REPLY:
            if locked.first_response_at is None:
                locked.first_response_at = now
                update_fields.append("first_response_at")
            if locked.status in (Status.NEW, Status.OPEN):
                locked.status = Status.ANSWERED
        elif kind == MessageKind.CUSTOMER and locked.status in (Status.ANSWERED, Status.RESOLVED, Status.POSTPONED):
            locked.status = Status.OPEN
            locked.postponed_until = None
            update_fields.append("postponed_until")
        if locked.status != old_status:
            update_fields.append("status")
        locked.save(update_fields=update_fields)
        if kind == MessageKind.CUSTOMER:
            event_append(
                ticket=locked, kind=EventKind.CUSTOMER_MESSAGE, actor=None, at=now,
                actor_fields={"actor_type": ActorType.CUSTOMER, "actor_id": locked.contact_id,
                              "actor_label": author_label},
            )
        else:
            event_append(
                ticket=locked, kind=EventKind.AGENT_REPLY if kind == MessageKind.REPLY else EventKind.NOTE_ADDED,
                actor=actor, at=now, data={"message_id": message.pk},
            )
        if locked.status != old_status:
            event_append(ticket=locked, kind=EventKind.STATUS_CHANGED, actor=actor, at=now,
                         data={"status": [old_status, locked.status]})
        sla.sla_message_added(ticket=locked, kind=kind, before_status=old_status, actor=actor, now=now)
        if kind == MessageKind.REPLY:
            mail.reply_mail(ticket=locked, message=message, actor=actor)
        hooks.fire(hooks.MESSAGE_ADDED, ticket=locked, message=message)
    ticket.refresh_from_db()
    return message


# --- changing tickets -------------------------------------------------------------------------------------

CHANGEABLE = ("subject", "status", "priority", "department", "assignee", "category", "postponed_until", "tags")


def _label(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "display_name"):
        return value.display_name
    if hasattr(value, "name"):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def ticket_update(*, actor: Actor, ticket: Ticket, **changes: Any) -> Ticket:
    """Change any of CHANGEABLE. A transfer (department and/or assignee) keeps the conversation and is logged."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    errors: dict[str, list[str]] = {}
    if "subject" in changes and not (changes["subject"] or "").strip():
        errors["subject"] = ["This field is required."]
    if "status" in changes and changes["status"] not in Status.values:
        errors["status"] = [f"Choose one of {', '.join(Status.values)}."]
    if "priority" in changes and changes["priority"] not in PRIORITY_NAMES:
        errors["priority"] = [f"Choose one of {', '.join(PRIORITY_NAMES.values())}."]
    new_status = changes.get("status")
    postponed_until = changes.get("postponed_until")
    if new_status == Status.POSTPONED:
        if postponed_until is None:
            errors["postponed_until"] = ["Say until when the ticket is postponed."]
        elif postponed_until <= timezone.now():
            errors["postponed_until"] = ["Choose a time in the future."]
    if errors:
        raise ApplicationError("The ticket could not be changed.", fields=errors)
    _check_same_tenant(
        ticket.tenant_id, department=changes.get("department"), assignee=changes.get("assignee"),
        category=changes.get("category"),
    )
    now = timezone.now()
    with transaction.atomic():
        # Lock so two agents changing the ticket at once both see (and log) what the other did.
        locked = Ticket.objects.select_for_update(no_key=True).get(pk=ticket.pk)
        previous_assignee_id = locked.assignee_id
        previous_department_id = locked.department_id
        previous_status, previous_priority = locked.status, locked.priority
        events: list[tuple[str, dict]] = []
        update_fields: list[str] = []

        def set_field(name: str, value: Any) -> Any:
            """Set a plain field; return its old value, or None when it did not change."""
            before = getattr(locked, name)
            if before == value:
                return None
            setattr(locked, name, value)
            update_fields.append(name)
            return before

        if "subject" in changes:
            before = set_field("subject", changes["subject"].strip()[:250])
            if before is not None:
                events.append((EventKind.SUBJECT_CHANGED, {"subject": [before, locked.subject]}))
        if "priority" in changes:
            before = set_field("priority", changes["priority"])
            if before is not None:
                events.append((EventKind.PRIORITY_CHANGED,
                               {"priority": [PRIORITY_NAMES[before], PRIORITY_NAMES[locked.priority]]}))
        transfer: dict[str, list] = {}
        if "department" in changes:
            before_department = locked.department
            if (before_department.pk if before_department else None) != (
                changes["department"].pk if changes["department"] else None
            ):
                locked.department = changes["department"]
                update_fields.append("department")
                transfer["department"] = [_label(before_department), _label(locked.department)]
        assignment: dict[str, list] = {}
        if "assignee" in changes:
            before_assignee = locked.assignee
            if (before_assignee.pk if before_assignee else None) != (
                changes["assignee"].pk if changes["assignee"] else None
            ):
                locked.assignee = changes["assignee"]
                update_fields.append("assignee")
                assignment["assignee"] = [_label(before_assignee), _label(locked.assignee)]
        if transfer:
            events.append((EventKind.TRANSFERRED, {**transfer, **assignment}))
        elif assignment:
            events.append((EventKind.ASSIGNED, assignment))
        if "category" in changes:
            before_category = locked.category
            if (before_category.pk if before_category else None) != (
                changes["category"].pk if changes["category"] else None
            ):
                locked.category = changes["category"]
                update_fields.append("category")
                events.append((EventKind.CATEGORY_CHANGED,
                               {"category": [_label(before_category), _label(locked.category)]}))
        if "status" in changes:
            before = locked.status
            if before != new_status or (new_status == Status.POSTPONED and postponed_until != locked.postponed_until):
                locked.status = new_status
                update_fields.append("status")
                if new_status == Status.POSTPONED:
                    locked.postponed_until = postponed_until
                    events.append((EventKind.POSTPONED, {"status": [before, new_status],
                                                         "postponed_until": _label(postponed_until)}))
                else:
                    locked.postponed_until = None
                    events.append((EventKind.STATUS_CHANGED, {"status": [before, new_status]}))
                update_fields.append("postponed_until")
                if new_status == Status.RESOLVED:
                    locked.resolved_at = now
                    update_fields.append("resolved_at")
        if "tags" in changes:
            tag_change = _ticket_tags_set(locked, changes["tags"])
            if tag_change:
                events.append((EventKind.TAGS_CHANGED, tag_change))
        if not events:
            return locked
        locked.updated_at = now
        update_fields.append("updated_at")
        locked.save(update_fields=sorted(set(update_fields)))
        for kind, data in events:
            event_append(ticket=locked, kind=kind, actor=actor, data=data, at=now)
        sla.sla_ticket_changed(ticket=locked, before_status=previous_status, before_priority=previous_priority,
                               before_department_id=previous_department_id, actor=actor, now=now)
        if locked.status == Status.RESOLVED and previous_status != Status.RESOLVED:
            mail.resolved_mail(ticket=locked, actor=actor)
        pushes = []
        if assignment and locked.assignee_id is not None and locked.assignee_id != getattr(actor.agent, "pk", None):
            pushes.append(_assigned_push(
                locked, push.TICKET_TRANSFERRED if transfer else push.TICKET_ASSIGNED, actor=actor,
                via="transfer" if transfer else "assignment",
            ))
        # Tags are not a column, so they are not among update_fields; rules watching them need to know.
        changed = set(update_fields) | ({"tags"} if any(k == EventKind.TAGS_CHANGED for k, _ in events) else set())
        hooks.fire(hooks.TICKET_UPDATED, ticket=locked, changed=changed,
                   previous_assignee_id=previous_assignee_id, previous_department_id=previous_department_id,
                   pushes=pushes)
        push.publish(pushes)
    return locked


def _assigned_push(ticket: Ticket, kind: str, *, actor: Actor, via: str) -> push.Push:
    """Tells the new assignee's open tabs that the ticket is now theirs."""
    return push.Push(push.agent_stream(ticket.assignee_id), kind, {
        "ticket_id": ticket.pk, "ticket": ticket.code, "subject": ticket.subject, "channel": ticket.channel,
        "customer": ticket.contact.display_name, "department": ticket.department.name if ticket.department else None,
        "by": actor.label, "via": via,
    })


def _ticket_tags_set(ticket: Ticket, names: Iterable[str]) -> dict | None:
    wanted = _tags_get_or_create(names)
    current = {tt.tag.name: tt for tt in TicketTag.objects.filter(ticket=ticket).select_related("tag")}
    wanted_names = {t.name for t in wanted}
    added = sorted(wanted_names - current.keys())
    removed = sorted(current.keys() - wanted_names)
    if not added and not removed:
        return None
    TicketTag.objects.filter(ticket=ticket, tag__name__in=removed).delete()
    TicketTag.objects.bulk_create(
        [TicketTag(tenant_id=ticket.tenant_id, ticket=ticket, tag=t) for t in wanted if t.name in added],
        ignore_conflicts=True,
    )
    return {"added": added, "removed": removed}


def ticket_take(*, actor: Actor, ticket: Ticket) -> Ticket:
    """Make the acting agent the owner of an unassigned ticket (opening it from To solve).

    One conditional UPDATE decides: when two agents open the ticket at once, the second UPDATE waits for the
    first to commit, re-checks ``assignee IS NULL``, matches nothing, and that agent is told who has it.
    """
    agent = actor.agent
    if agent is None:
        raise PermissionDenied("Only agents can take tickets.")
    now = timezone.now()
    with transaction.atomic():
        taken = Ticket.objects.filter(pk=ticket.pk, assignee__isnull=True).update(
            assignee=agent, updated_at=now,
        )
        if taken != 1:
            current = Ticket.objects.select_related("assignee").get(pk=ticket.pk)
            owner = current.assignee.display_name if current.assignee else "someone else"
            if current.assignee_id == agent.pk:
                return current
            raise Conflict(f"{owner} has already taken ticket {current.code}.", code="already_taken")
        taken_ticket = Ticket.objects.select_related("department", "assignee", "contact").get(pk=ticket.pk)
        event_append(ticket=taken_ticket, kind=EventKind.ASSIGNED, actor=actor, at=now,
                     data={"assignee": [None, agent.display_name], "via": "to_solve"})
        # The agent's other tabs learn it is theirs; routing (through the hook) stops ringing anyone for it.
        pushes = [_assigned_push(taken_ticket, push.TICKET_ASSIGNED, actor=actor, via="to_solve")]
        hooks.fire(hooks.TICKET_UPDATED, ticket=taken_ticket, changed={"assignee", "updated_at"},
                   previous_assignee_id=None, previous_department_id=taken_ticket.department_id, pushes=pushes)
        push.publish(pushes)
    return taken_ticket
