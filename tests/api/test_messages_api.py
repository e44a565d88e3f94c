"""A ticket's conversation and system log over the API."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from helpdesk.tenancy import tenant_context
from tests.api.helpers import error_of, field_errors, ids, results
from tickets.models import Attachment, EventKind, Message, Ticket
from tickets.services import message_add


def messages_url(ticket_id: int) -> str:
    return f"/api/v1/tickets/{ticket_id}/messages/"


def events_url(ticket_id: int) -> str:
    return f"/api/v1/tickets/{ticket_id}/events/"


def test_messages_are_listed_oldest_first_with_notes(admin_client, acme):
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        reply = message_add(actor=acme.admin, ticket=ticket, kind="reply", body="On it.")
        note = message_add(actor=acme.admin, ticket=ticket, kind="note", body="Customer is a VIP.")

    rows = results(admin_client.get(messages_url(ticket.pk)))

    assert [row["kind"] for row in rows] == ["customer", "reply", "note"]
    assert [row["id"] for row in rows[1:]] == [reply.pk, note.pk]
    assert rows[1]["author_agent"] == {"id": acme.admin_agent.pk, "display_name": acme.admin_agent.display_name}
    assert rows[0]["author_agent"] is None
    assert set(rows[0]) == {"id", "kind", "body", "author_label", "author_agent", "created_at", "attachments"}


def test_messages_page_by_id(admin_client, acme):
    ticket = acme.ticket()
    with tenant_context(acme.tenant):
        for n in range(4):
            message_add(actor=acme.admin, ticket=ticket, kind="note", body=f"note {n}")
        expected = list(Message.objects.filter(ticket=ticket).order_by("id").values_list("id", flat=True))

    first = admin_client.get(messages_url(ticket.pk), {"page_size": 3})
    second = admin_client.get(first.json()["next"])

    assert ids(first) + ids(second) == expected
    assert second.json()["next"] is None


def test_an_agent_replies_through_the_api(agent_client, acme):
    ticket = acme.ticket()

    response = agent_client.post(messages_url(ticket.pk), {"kind": "reply", "body": "Try turning it off."},
                                 format="json")

    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "reply"
    assert response.json()["author_agent"]["id"] == acme.agents[0].pk
    with tenant_context(acme.tenant):
        stored = Ticket.objects.get(pk=ticket.pk)
        assert stored.status == "answered" and stored.first_response_at is not None
        assert stored.events.filter(kind=EventKind.AGENT_REPLY).exists()


def test_an_admin_key_may_add_a_customer_message_but_an_agent_key_may_not(admin_client, agent_client, acme):
    ticket = acme.ticket()

    by_admin = admin_client.post(messages_url(ticket.pk), {"kind": "customer", "body": "Any news?"}, format="json")
    by_agent = agent_client.post(messages_url(ticket.pk), {"kind": "customer", "body": "Fake"}, format="json")

    assert by_admin.status_code == 201, by_admin.content
    assert by_admin.json()["author_label"] == ticket.contact.display_name
    assert error_of(by_agent, 403)["code"] == "permission_denied"
    with tenant_context(acme.tenant):
        assert not Message.objects.filter(ticket=ticket, body="Fake").exists()


def test_a_message_needs_a_kind_and_a_body(agent_client, acme):
    ticket = acme.ticket()

    assert set(field_errors(agent_client.post(messages_url(ticket.pk), {}, format="json"))) == {"kind", "body"}
    blank = agent_client.post(messages_url(ticket.pk), {"kind": "note", "body": "   "}, format="json")
    assert list(field_errors(blank)) == ["body"]
    odd_kind = agent_client.post(messages_url(ticket.pk), {"kind": "shout", "body": "Hi"}, format="json")
    assert list(field_errors(odd_kind)) == ["kind"]


def test_unknown_message_fields_are_refused(agent_client, acme):
    ticket = acme.ticket()

    response = agent_client.post(messages_url(ticket.pk), {"kind": "note", "body": "x", "internal": True},
                                 format="json")

    assert list(field_errors(response)) == ["internal"]


def test_files_attach_in_a_multipart_request(agent_client, acme):
    ticket = acme.ticket()
    files = [
        SimpleUploadedFile("log.txt", b"line one\nline two\n", content_type="text/plain"),
        SimpleUploadedFile("shot.png", b"\x89PNG fake", content_type="image/png"),
    ]

    response = agent_client.post(messages_url(ticket.pk), {"kind": "reply", "body": "See attached.",
                                                           "attachments": files}, format="multipart")

    assert response.status_code == 201, response.content
    attachments = response.json()["attachments"]
    assert [(a["filename"], a["content_type"], a["size"]) for a in attachments] == [
        ("log.txt", "text/plain", 18), ("shot.png", "image/png", 9),
    ]
    assert set(attachments[0]) == {"id", "filename", "content_type", "size", "download_url"}
    # The web app's download view serves them; the API only links to it.
    assert attachments[0]["download_url"] == "http://testserver" + reverse(
        "attachment-download", kwargs={"attachment_id": attachments[0]["id"]}
    )
    listed = results(agent_client.get(messages_url(ticket.pk)))
    assert [a["filename"] for a in listed[-1]["attachments"]] == ["log.txt", "shot.png"]


def test_a_file_of_a_refused_type_is_a_400(agent_client, acme):
    ticket = acme.ticket()
    script = SimpleUploadedFile("run.sh", b"#!/bin/sh\n", content_type="application/x-sh")

    response = agent_client.post(messages_url(ticket.pk), {"kind": "reply", "body": "x", "attachments": [script]},
                                 format="multipart")

    assert list(field_errors(response)) == ["attachments"]
    with tenant_context(acme.tenant):
        assert not Attachment.objects.exists()


def test_the_system_log_lists_events_in_order(admin_client, acme):
    ticket = acme.ticket()
    admin_client.patch(f"/api/v1/tickets/{ticket.pk}/", {"priority": "high"}, format="json")
    admin_client.post(messages_url(ticket.pk), {"kind": "note", "body": "Escalated."}, format="json")

    rows = results(admin_client.get(events_url(ticket.pk)))

    assert [row["kind"] for row in rows] == [
        EventKind.CREATED, EventKind.CUSTOMER_MESSAGE, EventKind.PRIORITY_CHANGED, EventKind.NOTE_ADDED,
    ]
    change = rows[2]
    assert change["data"] == {"priority": ["medium", "high"]}
    assert change["actor_type"] == "api" and change["actor_label"] == "API key integration"
    assert change["department_id_at_event"] == acme.department.pk
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)


def test_the_system_log_is_read_only(admin_client, acme):
    ticket = acme.ticket()

    for method in ("post", "patch", "put", "delete"):
        response = getattr(admin_client, method)(events_url(ticket.pk), {}, format="json")
        assert error_of(response, 405)["code"] == "method_not_allowed"


def test_an_agent_key_cannot_read_the_conversation_of_a_ticket_it_cannot_see(agent_client, acme):
    with tenant_context(acme.tenant):
        from departments.services import department_create

        billing = department_create(actor=acme.admin, name="Billing")
    hidden = acme.ticket(department=billing)

    assert error_of(agent_client.get(messages_url(hidden.pk)), 404)["code"] == "not_found"
    assert error_of(agent_client.get(events_url(hidden.pk)), 404)["code"] == "not_found"
    posted = agent_client.post(messages_url(hidden.pk), {"kind": "note", "body": "peek"}, format="json")
    assert error_of(posted, 404)["code"] == "not_found"
