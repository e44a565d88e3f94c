"""Emails to customers: automatic answers, replies, rule-sent templates, and delivery through a real SMTP
server on loopback (aiosmtpd), with retries and a failure recorded on the ticket's log."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.core import mail as django_mail
from django.utils import timezone

from departments import business_hours, replies
from departments.models import TemplateKind
from helpdesk.errors import ApplicationError, NotFound
from helpdesk.tenancy import tenant_context
from reports.models import Rating
from tickets import mail, services
from tickets.models import EmailStatus, EventKind, MessageKind, OutgoingEmail, Status, TicketEvent
from tickets.rating_links import rating_token_load
from tickets.services import ContactData


class Inbox:
    """An SMTP server's handler that keeps what arrives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], object]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_acknowledgement_reaches_a_real_smtp_server_from_the_departments_address(
    acme, smtp_server, django_capture_on_commit_callbacks,
):
    with tenant_context(acme.tenant):
        policy = business_hours.sla_policy_create(actor=acme.admin, name="Std",
                                                  targets={"medium": {"first_response": 240}})
        from departments import services as department_services

        acme.department = department_services.department_update(
            actor=acme.admin, department=acme.department, sla_policy=policy, signature="-- Acme Support")
        replies.email_template_create(
            actor=acme.admin, department=acme.department, kind=TemplateKind.ACKNOWLEDGEMENT,
            subject="[{{ticket_code}}] We got your message",
            body="Hello {{ customer_name }},\nwe answer {{expected_response}}.\n{{signature}}",
        )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = acme.ticket(contact=ContactData(name="Dana", email="dana@example.com"))
    assert len(smtp_server.messages) == 1
    mail_from, recipients, message = smtp_server.messages[0]
    assert mail_from == "support@acme.test"
    assert recipients == ["dana@example.com"]
    assert message["From"] == "Support <support@acme.test>"
    assert _subject(message) == f"[{ticket.code}] We got your message"
    body = message.get_payload(decode=True).decode()
    assert "Hello Dana," in body and "within 4 business hours" in body and "-- Acme Support" in body
    with tenant_context(acme.tenant):
        email = OutgoingEmail.objects.get(ticket=ticket)
        assert email.status == EmailStatus.SENT and email.attempts == 1 and email.sent_at is not None
        logged = TicketEvent.objects.get(ticket=ticket, kind=EventKind.AUTO_REPLY_SENT)
        assert logged.data["kind"] == "acknowledgement"


def test_nothing_is_sent_for_a_change_that_rolls_back(acme, smtp_server, django_capture_on_commit_callbacks):
    with tenant_context(acme.tenant):
        replies.email_template_create(actor=acme.admin, kind=TemplateKind.ACKNOWLEDGEMENT, subject="Thanks",
                                      body="Thanks {{customer_name}}")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), tenant_context(acme.tenant):
            services.ticket_create(actor=None, subject="Hi", body="Hi", department=acme.department,
                                   contact=ContactData(email="eve@example.com"))
            raise RuntimeError("the request failed after creating the ticket")
    assert callbacks == [] and smtp_server.messages == []


def test_out_of_hours_reply_tells_the_next_opening_instead_of_the_acknowledgement(acme):
    with tenant_context(acme.tenant):
        business_hours.business_hours_create(
            actor=acme.admin, department=acme.department, time_zone="Europe/Berlin", out_of_hours_reply=True,
            weekly={"mon": [["09:00", "17:00"]]},
        )
        replies.email_template_create(actor=acme.admin, kind=TemplateKind.ACKNOWLEDGEMENT, subject="Thanks",
                                      body="Thanks")
    saturday = datetime(2025, 3, 8, 12, tzinfo=UTC)
    ticket = acme.ticket(created_at=saturday, contact=ContactData(email="sam@example.com"))
    with tenant_context(acme.tenant):
        emails = list(OutgoingEmail.objects.filter(ticket=ticket))
        assert [e.kind for e in emails] == [TemplateKind.OUT_OF_HOURS]
        assert "Mon 10 Mar 2025, 09:00 (Europe/Berlin)" in emails[0].body
    monday = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
    in_hours = acme.ticket(created_at=monday, contact=ContactData(email="sam@example.com"))
    with tenant_context(acme.tenant):
        assert [e.kind for e in OutgoingEmail.objects.filter(ticket=in_hours)] == [TemplateKind.ACKNOWLEDGEMENT]


def test_no_automatic_mail_without_an_enabled_template_or_for_chats(acme):
    quiet = acme.ticket()
    with tenant_context(acme.tenant):
        replies.email_template_create(actor=acme.admin, kind=TemplateKind.ACKNOWLEDGEMENT, subject="Thanks",
                                      body="Thanks", enabled=False)
    still_quiet = acme.ticket()
    chat = acme.ticket(channel="chat")
    with tenant_context(acme.tenant):
        assert not OutgoingEmail.objects.filter(ticket__in=[quiet, still_quiet, chat]).exists()


def test_agent_reply_to_an_email_ticket_is_mailed_with_the_reply_template(acme):
    ticket = acme.ticket(contact=ContactData(name="Ola", email="ola@example.com"))
    chat = acme.ticket(channel="chat", contact=ContactData(email="chat@example.com"))
    with tenant_context(acme.tenant):
        replies.email_template_create(actor=acme.admin, kind=TemplateKind.REPLY,
                                      subject="Re: {{ticket_subject}} ({{ticket_code}})",
                                      body="{{message}}\n\n{{agent_name}}, {{department}}")
        agent = acme.actor_of(acme.agents[0])
        message = services.message_add(actor=agent, ticket=ticket, kind=MessageKind.REPLY, body="Unplug it.")
        services.message_add(actor=agent, ticket=ticket, kind=MessageKind.NOTE, body="Internal only.")
        services.message_add(actor=agent, ticket=chat, kind=MessageKind.REPLY, body="Chat answer.")
        emails = list(OutgoingEmail.objects.filter(ticket__in=[ticket, chat]))
        assert len(emails) == 1
        assert emails[0].message_id == message.pk
        assert emails[0].subject == f"Re: {ticket.subject} ({ticket.code})"
        assert emails[0].body == "Unplug it.\n\nAcme Agent 1, Support"


def test_resolving_sends_resolved_and_satisfaction_mails(acme):
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        replies.email_template_create(actor=acme.admin, kind=TemplateKind.RESOLVED, subject="Solved",
                                      body="Solved by {{agent_name}}")
        replies.email_template_create(actor=acme.admin, kind=TemplateKind.SATISFACTION, subject="Rate us",
                                      body="How did we do on {{ticket_code}}?")
        services.ticket_update(actor=acme.admin, ticket=ticket, status=Status.RESOLVED)
        emails = {e.kind: e for e in OutgoingEmail.objects.filter(ticket=ticket)}
        assert set(emails) == {"resolved", "satisfaction"}
        assert emails["resolved"].body == "Solved by Acme Owner"
        assert emails["satisfaction"].body == f"How did we do on {ticket.code}?"


def test_the_default_resolved_and_satisfaction_mails_carry_a_link_the_customer_rates_with(
    client, acme, settings, django_capture_on_commit_callbacks,
):
    ticket = acme.ticket(contact=ContactData(email="rae@example.com"))
    with tenant_context(acme.tenant):
        for kind in (TemplateKind.RESOLVED, TemplateKind.SATISFACTION):
            subject, body = replies.DEFAULT_TEXTS[kind]
            assert "{{rating_link}}" in body
            replies.email_template_create(actor=acme.admin, kind=kind, subject=subject, body=body)
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_update(actor=acme.admin, ticket=ticket, status=Status.RESOLVED)
    sent = {m.subject: m.body for m in django_mail.outbox if m.to == ["rae@example.com"]}
    assert len(sent) == 2
    pattern = re.escape(settings.PUBLIC_BASE_URL) + r"/rate/[^/\s]+/"
    links = {re.search(pattern, body).group(0) for body in sent.values()}
    assert len(links) == 1  # both mails rate the same ticket with the same link
    link = links.pop()
    page = client.get(link)
    assert page.status_code == 200 and ticket.code in page.content.decode()
    assert client.post(link, {"value": "positive", "comment": "Thanks!"}).status_code == 302
    with tenant_context(acme.tenant):
        rating = Rating.objects.get()
    assert (rating.ticket_id, rating.value, rating.comment) == (ticket.pk, "positive", "Thanks!")


def test_a_template_with_the_rating_link_validates_and_previews_with_a_sample_link(acme, settings):
    with tenant_context(acme.tenant):
        template = replies.email_template_create(actor=acme.admin, kind=TemplateKind.SATISFACTION,
                                                 subject="Rate {{ticket_code}}", body="Rate us: {{ rating_link }}")
        assert template.body == "Rate us: {{ rating_link }}"
        _, body = replies.email_template_preview(subject=template.subject, body=template.body, department=None)
        assert body.startswith(f"Rate us: {settings.PUBLIC_BASE_URL}/rate/")
        with pytest.raises(ApplicationError) as refused:
            replies.email_template_create(actor=acme.admin, kind=TemplateKind.RESOLVED, subject="Done",
                                          body="Rate us: {{rating_url}}")
        assert "body" in refused.value.fields


def test_the_rating_link_in_a_mail_is_for_its_own_ticket(acme):
    first, second = acme.ticket(), acme.ticket()
    with tenant_context(acme.tenant):
        links = [mail.placeholder_values(t)["rating_link"] for t in (first, second)]
    assert links[0] != links[1]
    assert [rating_token_load(link.rstrip("/").rsplit("/", 1)[1]).ticket_id for link in links] == [first.pk, second.pk]


def test_template_send_auto_reply_sends_a_template_by_id_and_logs_it(acme, globex):
    ticket = acme.ticket(contact=ContactData(email="kim@example.com"))
    no_email = acme.ticket(contact=ContactData(phone="+1 555 0199"))
    with tenant_context(globex.tenant):
        foreign = replies.email_template_create(actor=globex.admin, kind=TemplateKind.REPLY, subject="x", body="x")
    with tenant_context(acme.tenant):
        template = replies.email_template_create(
            actor=acme.admin, kind=TemplateKind.SATISFACTION, subject="Rate {{ticket_code}}", body="Please rate.",
            enabled=False,
        )
        with pytest.raises(NotFound):
            mail.template_send_auto_reply(ticket=ticket, template_id=foreign.pk, actor=None)
        email = mail.template_send_auto_reply(ticket=ticket, template_id=template.pk, actor=None)
        assert email.subject == f"Rate {ticket.code}" and email.to_email == "kim@example.com"
        assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.AUTO_REPLY_SENT).count() == 1
        with pytest.raises(ApplicationError) as refused:
            mail.template_send_auto_reply(ticket=no_email, template_id=template.pk, actor=None)
        assert "contact" in refused.value.fields


def test_a_refused_mail_is_retried_then_recorded_as_failed_on_the_log(
    acme, settings, django_capture_on_commit_callbacks,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _free_port()  # nothing listens: every attempt is refused
    settings.EMAIL_TIMEOUT = 2
    settings.EMAIL_SEND_ATTEMPTS = 3
    settings.EMAIL_RETRY_SECONDS = 0
    with tenant_context(acme.tenant):
        replies.email_template_create(actor=acme.admin, kind=TemplateKind.ACKNOWLEDGEMENT, subject="Thanks",
                                      body="Thanks")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = acme.ticket(contact=ContactData(email="fay@example.com"))
    with tenant_context(acme.tenant):
        email = OutgoingEmail.objects.get(ticket=ticket)
        assert email.status == EmailStatus.FAILED
        assert email.attempts == 3
        assert "ConnectionRefusedError" in email.last_error
        failed = TicketEvent.objects.get(ticket=ticket, kind=EventKind.EMAIL_FAILED)
        assert failed.data["to"] == "fay@example.com" and failed.data["attempts"] == 3


def test_a_sent_mail_is_not_sent_again_when_its_task_is_redelivered(acme, django_capture_on_commit_callbacks):
    from tickets.tasks import email_send

    with tenant_context(acme.tenant):
        replies.email_template_create(actor=acme.admin, kind=TemplateKind.ACKNOWLEDGEMENT, subject="Thanks",
                                      body="Thanks")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = acme.ticket(contact=ContactData(email="gus@example.com"))
    assert len(django_mail.outbox) == 1
    with tenant_context(acme.tenant):
        email = OutgoingEmail.objects.get(ticket=ticket)
    email_send.delay(acme.tenant.pk, email.pk)
    assert len(django_mail.outbox) == 1


def test_placeholder_values_use_the_departments_time_zone_for_sla_due(acme):
    with tenant_context(acme.tenant):
        policy = business_hours.sla_policy_create(actor=acme.admin, name="P", is_default=True,
                                                  targets={"medium": {"first_response": 90}})
        business_hours.business_hours_create(actor=acme.admin, time_zone="Asia/Kolkata",
                                             weekly={d: [["00:00", "00:00"]] for d in ("mon", "tue", "wed")})
    created = timezone.now().replace(microsecond=0)
    ticket = acme.ticket(created_at=created, department=None)
    with tenant_context(acme.tenant):
        from tickets.models import Ticket

        ticket = Ticket.objects.select_related("contact", "department", "sla_policy").get(pk=ticket.pk)
        assert ticket.sla_policy_id == policy.pk
        values = mail.placeholder_values(ticket, now=created)
        assert values["expected_response"] == "within 90 business minutes"
        assert values["sla_due"].endswith("(Asia/Kolkata)")
        assert set(values) == set(replies.PLACEHOLDERS)
        assert ticket.first_response_due_at - created >= timedelta(minutes=90)
