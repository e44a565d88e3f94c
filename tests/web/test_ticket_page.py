"""A ticket's page: the conversation, replies and notes, changes and transfers, the log, attachments, take."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from departments import services as department_services
from helpdesk.tenancy import tenant_context
from tests.web.conftest import signed_in
from tests.web.helpers import flashes
from tickets import services as ticket_services
from tickets.models import Attachment, EventKind, Message, MessageKind, Status, Ticket, TicketEvent


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _events(world, ticket) -> list[TicketEvent]:
    with tenant_context(world.tenant):
        return list(TicketEvent.objects.filter(ticket=ticket).order_by("id"))


def _reload(world, ticket) -> Ticket:
    with tenant_context(world.tenant):
        return Ticket.objects.select_related("department", "assignee").get(pk=ticket.pk)


def test_ticket_page_shows_the_conversation_with_notes_marked_internal_and_the_log(acme, admin_client):
    ticket = acme.ticket(subject="Printer on fire", body="Smoke everywhere.")
    with tenant_context(acme.tenant):
        ticket_services.message_add(actor=acme.admin, ticket=ticket, kind="reply", body="Unplug it, please.")
        ticket_services.message_add(actor=acme.admin, ticket=ticket, kind="note", body="Customer sounds calm.")
    response = admin_client.get(f"/tickets/{ticket.code}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Smoke everywhere." in page
    assert "Unplug it, please." in page
    note = page[page.index('class="message message--note"'):]
    assert "Internal note" in note[:600]
    assert "Customer sounds calm." in note
    assert "added an internal note" in page
    assert "replied to the customer" in page
    assert "changed status from New to Answered" in page


def test_ticket_code_lookup_ignores_case(acme, admin_client):
    ticket = acme.ticket()
    assert admin_client.get(f"/tickets/{ticket.code.lower()}/").status_code == 200


def test_ticket_page_shows_the_customer_and_their_other_tickets(acme, admin_client):
    first = acme.ticket(subject="Earlier problem", contact=ticket_services.ContactData(
        name="Maria Garcia", email="maria@example.com", phone="+1 555 0100"))
    ticket = acme.ticket(contact=ticket_services.ContactData(name="Maria Garcia", email="maria@example.com"))
    page = admin_client.get(f"/tickets/{ticket.code}/").content.decode()
    assert "maria@example.com" in page
    assert "+1 555 0100" in page
    assert f'href="/tickets/{first.code}/"' in page
    assert "Earlier problem" in page


def test_reply_is_sent_and_logged_as_an_agent_reply(acme, agent_client):
    ticket = acme.ticket()
    response = agent_client.post(f"/tickets/{ticket.code}/reply/", {"reply-body": "We are on it."})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        message = Message.objects.get(ticket=ticket, kind=MessageKind.REPLY)
    assert message.body == "We are on it."
    assert message.author_agent_id == acme.agents[0].pk
    assert response["Location"] == f"/tickets/{ticket.code}/#message-{message.pk}"
    kinds = [event.kind for event in _events(acme, ticket)]
    assert kinds[-2:] == [EventKind.AGENT_REPLY, EventKind.STATUS_CHANGED]
    assert _reload(acme, ticket).status == Status.ANSWERED


def test_note_is_added_and_logged_as_a_note(acme, agent_client):
    ticket = acme.ticket()
    response = agent_client.post(f"/tickets/{ticket.code}/note/", {"note-body": "Called them back."})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert Message.objects.get(ticket=ticket, kind=MessageKind.NOTE).body == "Called them back."
    assert _events(acme, ticket)[-1].kind == EventKind.NOTE_ADDED
    # A note is no answer to the customer.
    assert _reload(acme, ticket).status == Status.NEW


def test_empty_reply_shows_a_field_error(acme, agent_client):
    ticket = acme.ticket()
    response = agent_client.post(f"/tickets/{ticket.code}/reply/", {"reply-body": ""})
    assert response.status_code == 400
    assert 'id="id_reply-body_error"' in response.content.decode()
    with tenant_context(acme.tenant):
        assert not Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY).exists()


def test_reply_with_attachments_then_download_them(acme, agent_client):
    ticket = acme.ticket()
    files = [SimpleUploadedFile("log.txt", b"line one\n", content_type="text/plain"),
             SimpleUploadedFile("shot.png", b"\x89PNG fake", content_type="image/png")]
    response = agent_client.post(f"/tickets/{ticket.code}/reply/", {"reply-body": "See attached.",
                                                                      "reply-attachments": files})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        attachments = {a.filename: a for a in Attachment.objects.filter(message__ticket=ticket)}
    assert set(attachments) == {"log.txt", "shot.png"}
    page = agent_client.get(f"/tickets/{ticket.code}/").content.decode()
    assert f'href="/attachments/{attachments["log.txt"].pk}/"' in page

    download = agent_client.get(f"/attachments/{attachments['log.txt'].pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="log.txt"'
    assert b"".join(download.streaming_content) == b"line one\n"


def test_refused_attachment_type_is_a_field_error(acme, agent_client):
    ticket = acme.ticket()
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/x-msdownload")
    response = agent_client.post(f"/tickets/{ticket.code}/note/", {"note-body": "Here", "note-attachments": bad})
    assert response.status_code == 400
    assert "run.exe: files of type application/x-msdownload are not accepted." in response.content.decode()
    with tenant_context(acme.tenant):
        assert not Message.objects.filter(ticket=ticket).exclude(kind=MessageKind.CUSTOMER).exists()


def _properties(ticket, **overrides) -> dict:
    data = {"status": ticket.status, "priority": ticket.priority, "department": ticket.department_id or "",
            "assignee": ticket.assignee_id or "", "tags": "", "postponed_until": ""}
    data.update(overrides)
    return data


def test_transfer_to_another_department_is_logged_readably(acme, admin_client):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing")
    ticket = acme.ticket()
    response = admin_client.post(f"/tickets/{ticket.code}/update/",
                                 _properties(ticket, department=billing.pk, assignee=acme.agents[1].pk))
    assert response.status_code == 302
    changed = _reload(acme, ticket)
    assert (changed.department_id, changed.assignee_id) == (billing.pk, acme.agents[1].pk)
    event = _events(acme, ticket)[-1]
    assert event.kind == EventKind.TRANSFERRED
    assert event.data["department"] == ["Support", "Billing"]
    page = admin_client.get(f"/tickets/{ticket.code}/").content.decode()
    assert "Acme Owner</strong> transferred from Support to Billing and assigned it to Acme Agent 2" in page


def test_status_and_priority_changes_are_logged_and_unchanged_fields_are_not(acme, admin_client):
    ticket = acme.ticket()
    admin_client.post(f"/tickets/{ticket.code}/update/", _properties(ticket, status=Status.RESOLVED, priority=4))
    kinds = [event.kind for event in _events(acme, ticket)]
    assert kinds[-2:] == [EventKind.PRIORITY_CHANGED, EventKind.STATUS_CHANGED]
    assert EventKind.TRANSFERRED not in kinds
    page = admin_client.get(f"/tickets/{ticket.code}/").content.decode()
    assert "changed status from New to Resolved" in page
    assert "changed priority from Medium to Urgent" in page


def test_saving_without_changes_logs_nothing(acme, admin_client):
    ticket = acme.ticket(tags=["vip"])
    before = len(_events(acme, ticket))
    response = admin_client.post(f"/tickets/{ticket.code}/update/", _properties(ticket, tags="VIP"))
    assert response.status_code == 302
    assert len(_events(acme, ticket)) == before


def test_tags_are_comma_separated(acme, admin_client):
    ticket = acme.ticket(tags=["old"])
    admin_client.post(f"/tickets/{ticket.code}/update/", _properties(ticket, tags="Refund, vip ,,"))
    event = _events(acme, ticket)[-1]
    assert event.kind == EventKind.TAGS_CHANGED
    assert event.data == {"added": ["refund", "vip"], "removed": ["old"]}


def test_postponing_needs_a_date_in_the_future(acme, admin_client):
    ticket = acme.ticket()
    missing = admin_client.post(f"/tickets/{ticket.code}/update/", _properties(ticket, status=Status.POSTPONED))
    assert missing.status_code == 400
    assert "Say until when the ticket is postponed." in missing.content.decode()
    past = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    in_the_past = admin_client.post(f"/tickets/{ticket.code}/update/",
                                    _properties(ticket, status=Status.POSTPONED, postponed_until=past))
    assert in_the_past.status_code == 400
    assert "Choose a time in the future." in in_the_past.content.decode()
    assert _reload(acme, ticket).status == Status.NEW


def test_postponing_reads_the_date_in_the_tenants_time_zone(acme, admin_client):
    acme.tenant.time_zone = "Europe/Berlin"
    acme.tenant.save()
    ticket = acme.ticket()
    response = admin_client.post(f"/tickets/{ticket.code}/update/",
                                 _properties(ticket, status=Status.POSTPONED, postponed_until="2031-07-01T09:30"))
    assert response.status_code == 302
    changed = _reload(acme, ticket)
    assert changed.status == Status.POSTPONED
    assert changed.postponed_until.isoformat() == "2031-07-01T07:30:00+00:00"  # 09:30 summer time in Berlin
    page = admin_client.get(f"/tickets/{ticket.code}/").content.decode()
    assert "postponed the ticket until 1 Jul 2031, 09:30" in page


def test_invalid_property_values_show_errors(acme, admin_client, globex):
    ticket = acme.ticket()
    response = admin_client.post(f"/tickets/{ticket.code}/update/",
                                 _properties(ticket, status="closed", priority="9", department=globex.department.pk))
    assert response.status_code == 400
    assert response.content.decode().count("Select a valid choice.") >= 2
    assert _reload(acme, ticket).department_id == acme.department.pk


def test_taking_from_to_solve_assigns_the_ticket_and_the_second_agent_is_told(acme, sign_in):
    with tenant_context(acme.tenant):
        department_services.department_member_add(actor=acme.admin, department=acme.department,
                                                  agent=acme.agents[1])
    ticket = acme.ticket()
    first, second = sign_in(acme, acme.agents[0]), sign_in(acme, acme.agents[1])

    taken = first.post(f"/tickets/{ticket.code}/take/", follow=True)
    assert taken.redirect_chain[-1][0] == f"/tickets/{ticket.code}/"
    assert "You now own this ticket" in taken.content.decode()
    assert _reload(acme, ticket).assignee_id == acme.agents[0].pk
    assert _events(acme, ticket)[-1].data == {"assignee": [None, "Acme Agent 1"], "via": "to_solve"}

    late = second.post(f"/tickets/{ticket.code}/take/", follow=True)
    assert f"Acme Agent 1 has already taken ticket {ticket.code}" in late.content.decode()
    assert _reload(acme, ticket).assignee_id == acme.agents[0].pk
    assert "took the ticket from To solve" in late.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_agents_taking_at_once_leaves_exactly_one_owner(acme):
    with tenant_context(acme.tenant):
        department_services.department_member_add(actor=acme.admin, department=acme.department,
                                                  agent=acme.agents[1])
    ticket = acme.ticket()
    clients = [signed_in(acme, agent.user) for agent in acme.agents]
    barrier = threading.Barrier(len(clients))
    outcomes: list[list[str]] = []

    def take(client) -> None:
        try:
            barrier.wait()
            response = client.post(f"/tickets/{ticket.code}/take/")
            outcomes.append(flashes(response))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    messages = sorted(message for flash in outcomes for message in flash)
    assert len(messages) == 2
    assert messages[1] == "You now own this ticket."
    assert messages[0].endswith(f"has already taken ticket {ticket.code}.")
    owner = _reload(acme, ticket).assignee
    assert messages[0].startswith(owner.display_name)
    assert [e.kind for e in _events(acme, ticket)].count(EventKind.ASSIGNED) == 1


def test_new_ticket_logged_by_an_agent(acme, agent_client):
    response = agent_client.post("/tickets/new/", {
        "subject": "Phone: router blinks red", "body": "Caller says the router blinks red.",
        "contact_name": "Paul", "contact_phone": "+1 555 0199", "contact_email": "", "channel": "call",
        "priority": "3", "department": acme.department.pk, "assignee": acme.agents[0].pk, "tags": "router",
    })
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        ticket = Ticket.objects.get(subject="Phone: router blinks red")
        created = TicketEvent.objects.get(ticket=ticket, kind=EventKind.CREATED)
    assert response["Location"] == f"/tickets/{ticket.code}/"
    assert (ticket.channel, ticket.priority, ticket.assignee_id) == ("call", 3, acme.agents[0].pk)
    assert created.actor_label == "Acme Agent 1"


def test_new_ticket_needs_a_way_to_reach_the_customer(acme, agent_client):
    response = agent_client.post("/tickets/new/", {"subject": "x", "body": "y", "channel": "call", "priority": "2"})
    assert response.status_code == 400
    assert "Give the customer&#x27;s name, email or phone." in response.content.decode()


# --- what others may not see ------------------------------------------------------------------------------

def test_another_tenants_ticket_and_its_actions_are_not_found(acme, globex, admin_client):
    theirs = globex.ticket()
    assert admin_client.get(f"/tickets/{theirs.code}/").status_code == 404
    assert admin_client.post(f"/tickets/{theirs.code}/reply/", {"reply-body": "hi"}).status_code == 404
    assert admin_client.post(f"/tickets/{theirs.code}/note/", {"note-body": "hi"}).status_code == 404
    assert admin_client.post(f"/tickets/{theirs.code}/take/").status_code == 404
    assert admin_client.post(f"/tickets/{theirs.code}/update/", _properties(theirs)).status_code == 404
    with tenant_context(globex.tenant):
        assert not Message.objects.filter(ticket=theirs).exclude(kind=MessageKind.CUSTOMER).exists()
        assert Ticket.objects.get(pk=theirs.pk).assignee_id is None


def test_another_tenants_attachment_is_not_found(acme, globex, admin_client):
    theirs = globex.ticket()
    with tenant_context(globex.tenant):
        message = ticket_services.message_add(
            actor=globex.admin, ticket=theirs, kind="note", body="secret",
            attachments=[SimpleUploadedFile("secret.txt", b"secret", content_type="text/plain")],
        )
        attachment_id = message.attachments.get().pk
    response = admin_client.get(f"/attachments/{attachment_id}/")
    assert response.status_code == 404
    assert b"secret" not in response.content


def test_agent_cannot_open_tickets_of_departments_they_are_not_in(acme, agent_client):
    with tenant_context(acme.tenant):
        billing = department_services.department_create(actor=acme.admin, name="Billing")
    ticket = acme.ticket(department=billing)
    with tenant_context(acme.tenant):
        message = ticket_services.message_add(
            actor=acme.admin, ticket=ticket, kind="note", body="x",
            attachments=[SimpleUploadedFile("a.txt", b"a", content_type="text/plain")],
        )
        attachment_id = message.attachments.get().pk
    assert agent_client.get(f"/tickets/{ticket.code}/").status_code == 404
    assert agent_client.post(f"/tickets/{ticket.code}/take/").status_code == 404
    assert agent_client.get(f"/attachments/{attachment_id}/").status_code == 404


def _ticket_page_queries(client, ticket) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/tickets/{ticket.code}/").status_code == 200
    return len(captured.captured_queries)


def test_ticket_page_query_count_does_not_grow_with_the_conversation(acme, admin_client):
    ticket = acme.ticket(tags=["vip"])

    def add_messages(count: int) -> None:
        with tenant_context(acme.tenant):
            for i in range(count):
                ticket_services.message_add(
                    actor=acme.actor_of(acme.agents[i % 2]), ticket=ticket, kind="note" if i % 2 else "reply",
                    body=f"message {i}",
                    attachments=[SimpleUploadedFile(f"f{i}.txt", b"x", content_type="text/plain")],
                )
            ticket_services.ticket_update(actor=acme.admin, ticket=ticket, priority=1 + count % 4)

    add_messages(2)
    few = _ticket_page_queries(admin_client, ticket)
    add_messages(12)
    assert _ticket_page_queries(admin_client, ticket) == few
