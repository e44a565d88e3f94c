from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from helpdesk.errors import ApplicationError, NotFound
from helpdesk.tenancy import NoActiveTenant, tenant_context
from tickets import selectors, services
from tickets.models import Contact, EventKind, Message, MessageKind, Status, Ticket, TicketEvent
from tickets.services import ContactData


def kinds(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))


def test_creating_a_ticket_logs_it_and_keeps_the_customers_first_message(acme):
    ticket = acme.ticket(tags=["VIP", "billing", "vip"], priority=3)
    with tenant_context(acme.tenant):
        assert ticket.status == Status.NEW
        assert len(ticket.code) == 9 and ticket.code[4] == "-"
        assert kinds(ticket) == [EventKind.CREATED, EventKind.CUSTOMER_MESSAGE]
        created = TicketEvent.objects.get(ticket=ticket, kind=EventKind.CREATED)
        assert created.data["tags"] == ["billing", "vip"]
        assert created.data["priority"] == "high"
        assert created.department_id_at_event == acme.department.pk
        message = Message.objects.get(ticket=ticket)
        assert message.kind == MessageKind.CUSTOMER and message.body == "It is on fire."


def test_ticket_codes_are_unique_and_human_readable(acme):
    codes = {acme.ticket().code for _ in range(30)}
    assert len(codes) == 30
    assert all(set(code.replace("-", "")) <= set(services.CODE_ALPHABET) for code in codes)


def test_a_returning_customer_is_recognised_by_email_or_phone(acme):
    first = acme.ticket(contact=ContactData(name="Ann", email="Ann@Example.com"))
    second = acme.ticket(contact=ContactData(email="ann@example.com", phone="+1 555 0100"))
    by_phone_1 = acme.ticket(contact=ContactData(phone="+44 20 7946 0000"))
    by_phone_2 = acme.ticket(contact=ContactData(name="Bo", phone="+44 20 7946 0000"))
    assert first.contact_id == second.contact_id
    assert by_phone_1.contact_id == by_phone_2.contact_id
    with tenant_context(acme.tenant):
        contact = Contact.objects.get(pk=first.contact_id)
        assert contact.phone == "+1 555 0100"  # the new detail was learned
        assert [t.pk for t in selectors.contact_history(actor=acme.admin, ticket=second)] == [first.pk]


def test_a_contact_without_a_name_gets_a_visitor_id(acme):
    ticket = acme.ticket(contact=ContactData(phone="+1 555 0199"))
    with tenant_context(acme.tenant):
        contact = Contact.objects.get(pk=ticket.contact_id)
        assert contact.visitor_id.startswith("v-")
        assert Contact.objects.filter(visitor_id=contact.visitor_id).count() == 1


def test_customers_of_different_tenants_are_different_contacts(acme, globex):
    a = acme.ticket(contact=ContactData(email="shared@example.com"))
    b = globex.ticket(contact=ContactData(email="shared@example.com"))
    assert a.contact_id != b.contact_id


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"subject": "  "}, "subject"), ({"body": ""}, "body"), ({"channel": "pigeon"}, "channel"),
     ({"priority": 9}, "priority"), ({"contact": ContactData()}, "contact"),
     ({"contact": ContactData(email="not-an-email")}, "email")],
)
def test_invalid_tickets_are_refused_with_field_errors_and_nothing_is_written(acme, fields, field):
    with tenant_context(acme.tenant):
        before = Ticket.objects.count(), Contact.objects.count()
    with pytest.raises(ApplicationError) as caught:
        acme.ticket(**fields)
    assert field in caught.value.fields
    with tenant_context(acme.tenant):
        assert (Ticket.objects.count(), Contact.objects.count()) == before


def test_a_ticket_cannot_point_at_another_tenants_department(acme, globex):
    with pytest.raises(NotFound):
        acme.ticket(department=globex.department)


def test_a_reply_answers_the_ticket_and_records_the_first_response(acme):
    ticket = acme.ticket()
    agent = acme.agents[0]
    with tenant_context(acme.tenant):
        services.message_add(actor=acme.actor_of(agent), ticket=ticket, kind=MessageKind.REPLY, body="On it.")
        ticket.refresh_from_db()
        assert ticket.status == Status.ANSWERED
        first_response = ticket.first_response_at
        assert first_response is not None
        services.message_add(actor=acme.actor_of(agent), ticket=ticket, kind=MessageKind.REPLY, body="Again.")
        ticket.refresh_from_db()
        assert ticket.first_response_at == first_response
        assert kinds(ticket)[2:] == [EventKind.AGENT_REPLY, EventKind.STATUS_CHANGED, EventKind.AGENT_REPLY]
        reply_events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.AGENT_REPLY)
        assert reply_events.count() == 2
        assert reply_events.first().actor_label == agent.display_name


def test_a_customer_message_reopens_an_answered_or_resolved_ticket(acme):
    ticket = acme.ticket()
    actor = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        services.ticket_update(actor=actor, ticket=ticket, status=Status.RESOLVED)
        services.message_add(actor=None, ticket=ticket, kind=MessageKind.CUSTOMER, body="Still broken")
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN
        change = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS_CHANGED).last()
        assert change.data == {"status": ["resolved", "open"]}


def test_an_internal_note_changes_no_status(acme):
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        services.message_add(actor=acme.actor_of(acme.agents[0]), ticket=ticket, kind=MessageKind.NOTE, body="psst")
        ticket.refresh_from_db()
        assert ticket.status == Status.NEW and ticket.first_response_at is None
        assert kinds(ticket)[-1] == EventKind.NOTE_ADDED
        public = selectors.message_list(actor=acme.admin, ticket=ticket, include_notes=False)
        assert [m.kind for m in public] == [MessageKind.CUSTOMER]


def test_attachments_over_the_limit_or_of_refused_types_are_rejected(acme, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    ticket = acme.ticket()
    actor = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        big = SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain")
        exe = SimpleUploadedFile("run.exe", b"MZ", content_type="application/x-msdownload")
        with pytest.raises(ApplicationError) as caught:
            services.message_add(actor=actor, ticket=ticket, kind=MessageKind.REPLY, body="see", attachments=[big, exe])
        assert len(caught.value.fields["attachments"]) == 2
        assert Message.objects.filter(ticket=ticket).count() == 1
        ok = SimpleUploadedFile("ok.txt", b"hello", content_type="text/plain")
        message = services.message_add(actor=actor, ticket=ticket, kind=MessageKind.REPLY, body="see", attachments=[ok])
        attachment = message.attachments.get()
        assert (attachment.filename, attachment.size, attachment.content_type) == ("ok.txt", 5, "text/plain")


def test_each_change_is_logged_with_before_and_after(acme):
    ticket = acme.ticket()
    actor = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        services.ticket_update(actor=actor, ticket=ticket, priority=4, subject="Printer is on fire", tags=["fire"])
        events = {e.kind: e.data for e in TicketEvent.objects.filter(ticket=ticket)}
        assert events[EventKind.PRIORITY_CHANGED] == {"priority": ["medium", "urgent"]}
        assert events[EventKind.SUBJECT_CHANGED]["subject"][1] == "Printer is on fire"
        assert events[EventKind.TAGS_CHANGED] == {"added": ["fire"], "removed": []}
        count = TicketEvent.objects.filter(ticket=ticket).count()
        services.ticket_update(actor=actor, ticket=ticket, priority=4, tags=["fire"])
        assert TicketEvent.objects.filter(ticket=ticket).count() == count  # no change, nothing logged


def test_a_transfer_keeps_the_conversation_and_is_logged(acme):
    ticket = acme.ticket()
    actor = acme.actor_of(acme.agents[0])
    from departments.services import department_create

    with tenant_context(acme.tenant):
        billing = department_create(actor=acme.admin, name="Billing")
        services.message_add(actor=actor, ticket=ticket, kind=MessageKind.NOTE, body="for billing")
        services.ticket_update(actor=actor, ticket=ticket, department=billing, assignee=acme.agents[1])
        ticket.refresh_from_db()
        assert ticket.department == billing and ticket.assignee == acme.agents[1]
        assert Message.objects.filter(ticket=ticket).count() == 2
        transfer = TicketEvent.objects.get(ticket=ticket, kind=EventKind.TRANSFERRED)
        assert transfer.data == {"department": ["Support", "Billing"], "assignee": [None, "Acme Agent 2"]}
        assert transfer.department_id_at_event == billing.pk


def test_postponing_needs_a_future_time(acme):
    ticket = acme.ticket()
    actor = acme.actor_of(acme.agents[0])
    with tenant_context(acme.tenant):
        with pytest.raises(ApplicationError) as caught:
            services.ticket_update(actor=actor, ticket=ticket, status=Status.POSTPONED)
        assert "postponed_until" in caught.value.fields
        with pytest.raises(ApplicationError):
            services.ticket_update(actor=actor, ticket=ticket, status=Status.POSTPONED,
                                   postponed_until=timezone.now() - timedelta(hours=1))
        until = timezone.now() + timedelta(days=2)
        services.ticket_update(actor=actor, ticket=ticket, status=Status.POSTPONED, postponed_until=until)
        ticket.refresh_from_db()
        assert ticket.status == Status.POSTPONED and ticket.postponed_until == until
        assert kinds(ticket)[-1] == EventKind.POSTPONED


def test_agents_see_their_departments_their_own_and_department_less_tickets(acme):
    from departments.services import department_create

    with tenant_context(acme.tenant):
        other = department_create(actor=acme.admin, name="Sales")
    mine_by_department = acme.ticket()  # acme.department has agents[0] as member
    no_department = acme.ticket(department=None)
    elsewhere = acme.ticket(department=other)
    assigned_elsewhere = acme.ticket(department=other, assignee=acme.agents[0])
    with tenant_context(acme.tenant):
        visible = set(selectors.ticket_list(actor=acme.actor_of(acme.agents[0])).values_list("pk", flat=True))
        assert visible == {mine_by_department.pk, no_department.pk, assigned_elsewhere.pk}
        with pytest.raises(NotFound):
            selectors.ticket_get(actor=acme.actor_of(acme.agents[0]), ticket_id=elsewhere.pk)
        everything = set(selectors.ticket_list(actor=acme.admin).values_list("pk", flat=True))
        assert elsewhere.pk in everything and len(everything) == 4


def test_tenant_owned_queries_refuse_to_run_without_an_active_tenant(acme):
    acme.ticket()
    with pytest.raises(NoActiveTenant):
        list(Ticket.objects.all())
