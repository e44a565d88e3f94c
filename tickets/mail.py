"""Emails to customers: acknowledgements, out-of-hours auto-replies, agent replies, resolved and satisfaction
mails, and rule-sent auto-replies.

Each is written as an OutgoingEmail row in the caller's transaction and sent after commit by
``tickets.tasks.email_send`` through Django's email backend, from the department's address (else the
tenant's name at DEFAULT_FROM_EMAIL). A rolled-back change therefore never mails anyone, and a failed send is
retried and finally recorded on the ticket's log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from email.utils import formataddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from departments.business_hours import business_hours_for_department, schedule_of
from departments.models import BusinessHours, EmailTemplate, TemplateKind
from departments.replies import email_template_for, placeholders_render
from departments.schedules import NeverOpen, is_open, next_open
from helpdesk.errors import ApplicationError, NotFound
from helpdesk.principals import Actor
from helpdesk.tenancy import require_active_tenant
from tickets.models import PRIORITY_NAMES, Channel, EmailStatus, EventKind, Message, OutgoingEmail, Ticket
from tickets.rating_links import rating_link_for

# Channels whose customers are answered by email; chats and calls are answered where they happen.
EMAIL_CHANNELS = (Channel.EMAIL, Channel.CONTACT_FORM, Channel.API, Channel.WEB)

DEFAULT_OUT_OF_HOURS = (
    "We received your message ({{ticket_code}}: {{ticket_subject}}) outside our business hours.",
    "Hello {{customer_name}},\n\nthank you for writing to {{department}}. We are closed right now and will "
    "answer after we open again: {{next_opening}}.\n\n{{signature}}",
)
DEFAULT_REPLY = ("Re: {{ticket_subject}} [{{ticket_code}}]", "{{message}}\n\n{{signature}}")


def _format_when(at: datetime | None, zone: str) -> str:
    if at is None:
        return ""
    return at.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M") + f" ({zone})"


def _format_duration(seconds: int) -> str:
    minutes = seconds // 60
    if minutes % (60 * 24) == 0 and minutes >= 60 * 24:
        return f"{minutes // (60 * 24)} business day{'s' if minutes != 60 * 24 else ''}"
    if minutes % 60 == 0:
        return f"{minutes // 60} business hour{'s' if minutes != 60 else ''}"
    return f"{minutes} business minutes"


def placeholder_values(
    ticket: Ticket, *, agent_name: str = "", message: str = "", now: datetime | None = None,
) -> dict[str, str]:
    """What each placeholder means for this ticket now."""
    now = now or timezone.now()
    hours = business_hours_for_department(department_id=ticket.department_id)
    zone = hours.time_zone if hours else require_active_tenant().time_zone
    department = ticket.department
    values = {
        "customer_name": ticket.contact.display_name,
        "ticket_code": ticket.code,
        "ticket_subject": ticket.subject,
        "agent_name": agent_name,
        "department": department.name if department else require_active_tenant().name,
        "sla_due": _format_when(ticket.sla_due_at, zone),
        "expected_response": "",
        "next_opening": "",
        "message": message,
        "signature": department.signature if department else "",
        "rating_link": rating_link_for(ticket),
    }
    policy = ticket.sla_policy
    minutes = policy.target_minutes(PRIORITY_NAMES[ticket.priority], "first_response") if policy else None
    if minutes:
        values["expected_response"] = f"within {_format_duration(minutes * 60)}"
    if hours is not None:
        with contextlib.suppress(NeverOpen):
            values["next_opening"] = _format_when(next_open(schedule_of(hours), now), zone)
    return values


def _from_address(ticket: Ticket) -> str:
    department = ticket.department
    if department is not None and department.support_email:
        return formataddr((department.name, department.support_email))
    return formataddr((require_active_tenant().name, settings.DEFAULT_FROM_EMAIL))


def email_queue(
    *, ticket: Ticket, kind: str, subject: str, body: str, message: Message | None = None,
) -> OutgoingEmail | None:
    """Write the email and send it after commit; None when the customer has no email address."""
    from tickets import tasks  # tasks import this module

    to = ticket.contact.email
    if not to:
        return None
    email = OutgoingEmail.objects.create(
        tenant_id=ticket.tenant_id, ticket=ticket, message=message, kind=kind, from_email=_from_address(ticket),
        to_email=to, subject=" ".join(subject.split())[:250], body=body,
    )
    tenant_id = ticket.tenant_id
    transaction.on_commit(lambda: tasks.email_send.delay(tenant_id, email.pk))
    return email


def _queue_template(
    ticket: Ticket, template: EmailTemplate | tuple[str, str], kind: str, *, values: Mapping[str, str],
    message: Message | None = None,
) -> OutgoingEmail | None:
    subject, body = (template.subject, template.body) if isinstance(template, EmailTemplate) else template
    return email_queue(ticket=ticket, kind=kind, subject=placeholders_render(subject, values),
                       body=placeholders_render(body, values), message=message)


def _log_auto_reply(ticket: Ticket, email: OutgoingEmail, actor: Actor | None) -> None:
    from tickets.services import event_append

    event_append(ticket=ticket, kind=EventKind.AUTO_REPLY_SENT, actor=actor,
                 data={"kind": email.kind, "to": email.to_email, "subject": email.subject, "email_id": email.pk})


def ticket_created_mail(*, ticket: Ticket, now: datetime) -> OutgoingEmail | None:
    """A new ticket's automatic answer: the out-of-hours reply when the department is closed and has it on,
    else the acknowledgement when its template is enabled."""
    if ticket.channel not in EMAIL_CHANNELS or not ticket.contact.email:
        return None
    hours = business_hours_for_department(department_id=ticket.department_id)
    email = None
    values = placeholder_values(ticket, now=now)
    if hours is not None and hours.out_of_hours_reply and values["next_opening"] and not _is_open(hours, now):
        template = email_template_for(department_id=ticket.department_id, kind=TemplateKind.OUT_OF_HOURS)
        if template is None or template.enabled:
            email = _queue_template(ticket, template or DEFAULT_OUT_OF_HOURS, TemplateKind.OUT_OF_HOURS,
                                    values=values)
    if email is None:
        template = email_template_for(department_id=ticket.department_id, kind=TemplateKind.ACKNOWLEDGEMENT)
        if template is not None and template.enabled:
            email = _queue_template(ticket, template, TemplateKind.ACKNOWLEDGEMENT, values=values)
    if email is not None:
        _log_auto_reply(ticket, email, None)
    return email


def _is_open(hours: BusinessHours, now: datetime) -> bool:
    return is_open(schedule_of(hours), now)


def reply_mail(*, ticket: Ticket, message: Message, actor: Actor) -> OutgoingEmail | None:
    """An agent's reply to an email ticket goes to the customer, in the reply template when there is one."""
    if ticket.channel not in EMAIL_CHANNELS:
        return None
    template = email_template_for(department_id=ticket.department_id, kind=TemplateKind.REPLY)
    if template is None or not template.enabled:
        template = DEFAULT_REPLY
    values = placeholder_values(ticket, agent_name=actor.label, message=message.body)
    return _queue_template(ticket, template, TemplateKind.REPLY, values=values, message=message)


def resolved_mail(*, ticket: Ticket, actor: Actor | None) -> list[OutgoingEmail]:
    """On resolving: the resolved and satisfaction-request mails whose templates are enabled."""
    if ticket.channel not in EMAIL_CHANNELS or not ticket.contact.email:
        return []
    sent = []
    values = placeholder_values(ticket, agent_name=actor.label if actor else "")
    for kind in (TemplateKind.RESOLVED, TemplateKind.SATISFACTION):
        template = email_template_for(department_id=ticket.department_id, kind=kind)
        if template is not None and template.enabled:
            email = _queue_template(ticket, template, kind, values=values)
            if email is not None:
                _log_auto_reply(ticket, email, actor)
                sent.append(email)
    return sent


def template_send_auto_reply(*, ticket: Ticket, template_id: int, actor: Actor | None) -> OutgoingEmail:
    """Send one email template to the ticket's customer (a rule action); logged on the ticket.

    Sent even when the template's automatic sending is off: the rule asked for it by name.
    """
    template = EmailTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise NotFound("No such email template.", fields={"template_id": ["No such email template."]})
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(no_key=True, of=("self",)).select_related(
            "contact", "department", "sla_policy").get(pk=ticket.pk)
        values = placeholder_values(locked, agent_name=actor.label if actor and actor.agent else "")
        email = _queue_template(locked, template, template.kind, values=values)
        if email is None:
            raise ApplicationError("The customer has no email address.",
                                   fields={"contact": ["The customer has no email address."]})
        _log_auto_reply(locked, email, actor)
    return email


# --- delivery (the task's half) ---------------------------------------------------------------------------

def email_claim(*, email_id: int) -> OutgoingEmail | None:
    """Count an attempt and return the email, or None when it was sent or given up already."""
    email = OutgoingEmail.objects.select_related("ticket").filter(pk=email_id, status=EmailStatus.QUEUED).first()
    if email is None:
        return None
    OutgoingEmail.objects.filter(pk=email_id).update(attempts=email.attempts + 1)
    return email


def email_deliver(email: OutgoingEmail) -> None:
    """Hand the email (claimed, its ticket loaded) to the configured backend; raises when it refuses. Runs outside
    any transaction and tenant: it touches no table."""
    EmailMessage(
        subject=email.subject, body=email.body, from_email=email.from_email, to=[email.to_email],
        headers={"X-Helpdesk-Ticket": email.ticket.code},
    ).send(fail_silently=False)


def email_mark_sent(*, email_id: int) -> None:
    OutgoingEmail.objects.filter(pk=email_id).update(status=EmailStatus.SENT, sent_at=timezone.now(),
                                                       last_error="")


def email_mark_error(*, email_id: int, error: str, final: bool) -> None:
    """Remember why an attempt failed; the last one marks the email failed and tells the ticket's log."""
    from tickets.services import event_append

    updated = OutgoingEmail.objects.filter(pk=email_id, status=EmailStatus.QUEUED).update(
        last_error=error[:2000], **({"status": EmailStatus.FAILED} if final else {}))
    if final and updated:
        email = OutgoingEmail.objects.select_related("ticket").get(pk=email_id)
        event_append(ticket=email.ticket, kind=EventKind.EMAIL_FAILED, actor=None,
                     data={"to": email.to_email, "subject": email.subject, "error": error[:300],
                           "attempts": email.attempts, "email_id": email.pk})
